import Foundation

extension Date {
    /// ISO 8601 in UTC with milliseconds only when present: the canonical form of times in the hub.
    public var canonicalText: String {
        let ms = Int((timeIntervalSince1970 * 1000).rounded())
        var seconds = ms / 1000
        var millis = ms % 1000
        if millis < 0 {
            millis += 1000
            seconds -= 1
        }
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let base = "\(y)-\(two(m))-\(two(d))T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))"
        if millis == 0 { return base + "Z" }
        let frac = String(millis + 1000).dropFirst()
        return base + "." + frac + "Z"
    }
}

extension Date {
    /// Parses the hub's canonical time text (`2026-11-24T01:02:03Z`, optionally with milliseconds),
    /// digit by digit: it is read for every report on every identity pass, and a date formatter per
    /// call costs far more than the rest of the work. Other ISO 8601 forms go to Foundation's parser.
    public init?(canonicalText text: String) {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else { return nil }
                value = value * 10 + Int(bytes[i] - UInt8(ascii: "0"))
            }
            return value
        }
        let separatorsMatch = bytes.count >= 20 && bytes[4] == UInt8(ascii: "-") && bytes[7] == UInt8(ascii: "-")
            && bytes[10] == UInt8(ascii: "T") && bytes[13] == UInt8(ascii: ":") && bytes[16] == UInt8(ascii: ":")
            && bytes.last == UInt8(ascii: "Z")
        let millis: Int?
        switch bytes.count {
        case 20: millis = 0
        case 24 where bytes[19] == UInt8(ascii: "."): millis = number(20..<23)
        default: millis = nil
        }
        guard separatorsMatch, let millis, let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(m), (1...31).contains(d), hour < 24, minute < 60, second < 61
        else {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
            guard let date = formatter.date(from: text) else { return nil }
            self = date
            return
        }
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil), the inverse of `canonicalText`.
        let year = m <= 2 ? y - 1 : y
        let era = (year >= 0 ? year : year - 399) / 400
        let yoe = year - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        self = Date(timeIntervalSince1970: Double(seconds) + Double(millis) / 1000)
    }
}
