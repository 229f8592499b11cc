import Foundation

/// A GB/T 2260 administrative-division list of one revision, as kept in `Mappings/codes/`.
public struct DivisionList: Sendable {
    /// Where the list comes from and which revision (`mca 201904`).
    public var revision: String
    /// Six-digit code → name.
    public var names: [String: String]

    public init(revision: String, names: [String: String]) {
        self.revision = revision
        self.names = names
    }

    /// Parses the tab-separated `Source Revision Code Name` form of the samples.
    public init(tsv: String) throws(DivisionList.ParseError) {
        var names: [String: String] = [:]
        var revision = ""
        for (n, line) in tsv.split(whereSeparator: \.isNewline).enumerated() where n > 0 {
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard cols.count >= 4 else { throw ParseError(line: n + 1) }
            revision = "\(cols[0]) \(cols[1])"
            names[String(cols[2])] = String(cols[3])
        }
        guard !names.isEmpty else { throw ParseError(line: 1) }
        self.init(revision: revision, names: names)
    }

    /// A line of the list that is not `Source Revision Code Name`.
    public struct ParseError: Error, Sendable { public var line: Int }

    /// Validates a 6-, 9- or 12-digit division code and returns its normalized form: the six-digit
    /// county-level code when the rest is zeros, the code itself otherwise.
    public func normalize(_ code: String) -> Result<String, DivisionList.Invalid> {
        let digits = code.trimmingCharacters(in: .whitespaces)
        guard [6, 9, 12].contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            return .failure(.malformed)
        }
        let county = String(digits.prefix(6))
        guard names[county] != nil else { return .failure(.unknown(revision: revision)) }
        let rest = digits.dropFirst(6)
        return .success(rest.allSatisfy { $0 == "0" } ? county : digits)
    }

    /// Why a division code was refused.
    public enum Invalid: Error, Hashable, Sendable {
        case malformed
        case unknown(revision: String)
    }
}

