import Foundation
import LiandongMapping

/// The cursor of a source paged by update time: the last record's update time, and its id to break
/// ties between records changed in the same second. Stored as `time|id`, or `time|id|settled` once
/// the stream has caught up: the next pass then starts `overlap` before `time`, so that a record
/// committed late with an earlier time, or by a source whose clock runs ahead, is read after all
/// (records already held come back unchanged).
public struct UpdateTimeCursor: Sendable, Hashable {
    /// The update time as the source writes it.
    public var time: String
    /// The id of the last record at that time.
    public var id: String
    /// Whether the stream had caught up here: the next pass re-reads the overlap window.
    public var settled = false

    public init(time: String, id: String, settled: Bool = false) {
        self.time = time
        self.id = id
        self.settled = settled
    }

    /// Reads a stored cursor; nil for none or one of another form.
    public init?(_ text: String?) {
        guard var text else { return nil }
        let settled = text.hasSuffix("|settled")
        if settled { text.removeLast("|settled".count) }
        let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        self.init(time: String(parts[0]), id: String(parts[1]), settled: settled)
    }

    /// The stored form.
    public var text: String { "\(time)|\(id)" + (settled ? "|settled" : "") }

    /// Where a pass starts from a settled cursor: `seconds` before its time, every id at that time
    /// included. A time of a form `SourceTime` does not know is not moved.
    public func rewound(by seconds: TimeInterval) -> UpdateTimeCursor {
        guard let moved = SourceTime(time)?.adding(-seconds) else { return UpdateTimeCursor(time: time, id: id) }
        return UpdateTimeCursor(time: moved.text, id: "")
    }

    /// Whether this position is before `other`: by time where both times read, else by their text.
    public func isBefore(_ other: UpdateTimeCursor) -> Bool {
        if let mine = SourceTime(time)?.date, let theirs = SourceTime(other.time)?.date, mine != theirs { return mine < theirs }
        return (time, id) < (other.time, other.id)
    }
}

/// An update time as a source writes it, readable in the forms agencies use, and written back in the
/// same form: `2026-12-03 10:00:00` and `2026-12-03T10:00:00` (Asia/Shanghai when no zone),
/// with `Z` or `+08:00`, `20261203100000`, and seconds or milliseconds since 1970.
public struct SourceTime: Sendable {
    public let date: Date
    private let form: Form

    private enum Form: Sendable {
        /// Written by a pattern in a zone (`yyyy-MM-dd HH:mm:ss`, with `T`, or `yyyyMMddHHmmss`),
        /// followed by `suffix` as written (`Z`, `+08:00`, or nothing).
        case pattern(TimeParser, suffix: String)
        case epochSeconds, epochMilliseconds
    }

    private static let china = TimeZone(identifier: "Asia/Shanghai")!

    public init?(_ text: String) {
        if text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let number = Double(text) {
            switch text.count {
            case 10: self.init(date: Date(timeIntervalSince1970: number), form: .epochSeconds)
            case 13: self.init(date: Date(timeIntervalSince1970: number / 1000), form: .epochMilliseconds)
            case 14: self.init(text, TimeParser(pattern: "yyyyMMddHHmmss", zone: Self.china), suffix: "")
            default: return nil
            }
            return
        }
        guard text.count >= 19 else { return nil }
        let separator = text[text.index(text.startIndex, offsetBy: 10)]
        guard separator == " " || separator == "T" else { return nil }
        let zoneText = text.dropFirst(19).drop { $0 == "." || $0.isNumber }
        let zone: TimeZone
        switch zoneText {
        case "": zone = Self.china
        case "Z": zone = TimeZone(secondsFromGMT: 0)!
        default:
            let digits = zoneText.dropFirst().filter(\.isNumber)
            guard let sign = zoneText.first, "+-".contains(sign), digits.count == 4, let hours = Int(digits.prefix(2)),
                let minutes = Int(digits.suffix(2))
            else { return nil }
            zone = TimeZone(secondsFromGMT: (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60))!
        }
        self.init(String(text.prefix(19)), TimeParser(pattern: "yyyy-MM-dd\(separator)HH:mm:ss", zone: zone), suffix: String(zoneText))
    }

    /// `text` read by `parser`; a fraction of a second after it is dropped, `suffix` kept for writing back.
    private init?(_ text: String, _ parser: TimeParser, suffix: String) {
        guard let date = parser.parse(text) else { return nil }
        self.init(date: date, form: .pattern(parser, suffix: suffix))
    }

    private init(date: Date, form: Form) {
        self.date = date
        self.form = form
    }

    /// This time moved by `seconds`, in the same form (fractions of a second dropped).
    public func adding(_ seconds: TimeInterval) -> SourceTime { SourceTime(date: date.addingTimeInterval(seconds), form: form) }

    /// The time in the form it was read in.
    public var text: String {
        switch form {
        case .epochSeconds: "\(Int(date.timeIntervalSince1970))"
        case .epochMilliseconds: "\(Int64(date.timeIntervalSince1970 * 1000))"
        case .pattern(let parser, let suffix): parser.format(date) + suffix
        }
    }
}
