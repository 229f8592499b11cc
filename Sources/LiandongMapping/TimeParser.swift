import Foundation

/// Parses source times by a fixed pattern (`yyyy-MM-dd HH:mm:ss`, `yyyyMMddHHmmss`) or as ISO 8601,
/// in a zone used when the text carries no offset. Written by hand because Foundation's
/// `DateFormatter` is slow and not `Sendable`; it understands `yyyy MM dd HH mm ss SSS` and literals.
public struct TimeParser: Sendable, Hashable {
    /// The pattern, or `iso8601`.
    public var pattern: String
    /// The zone for times without an offset.
    public var zone: TimeZone

    public init(pattern: String, zone: TimeZone) {
        self.pattern = pattern
        self.zone = zone
    }

    /// The time, or nil when `text` does not match.
    public func parse(_ text: String) -> Date? {
        let chars = Array(text.trimmingWhitespace().utf8)
        if pattern == "iso8601" { return parseISO(chars) }
        var fields = [Character: Int]()
        var i = 0
        var p = Array(pattern)[...]
        while let token = p.first {
            let run = p.prefix(while: { $0 == token }).count
            p = p.dropFirst(run)
            if "yMdHmsS".contains(token) {
                guard let n = digits(chars, &i, count: run) else { return nil }
                fields[token] = n
            } else {
                for expected in String(repeating: token, count: run).utf8 {
                    guard i < chars.count, chars[i] == expected else { return nil }
                    i += 1
                }
            }
        }
        guard i == chars.count else { return nil }
        let millis = fields["S"].map { Double($0) / pow(10, Double(String($0).count > 3 ? 6 : 3)) } ?? 0
        return make(
            year: fields["y"] ?? 1970, month: fields["M"] ?? 1, day: fields["d"] ?? 1, hour: fields["H"] ?? 0,
            minute: fields["m"] ?? 0, second: fields["s"] ?? 0, fraction: millis, offset: nil)
    }

    /// `date` written by the pattern in the zone (the inverse of `parse`, for outbound documents);
    /// `iso8601` writes the canonical UTC form.
    public func format(_ date: Date) -> String {
        if pattern == "iso8601" { return date.canonicalText }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let values: [Character: Int] = [
            "y": parts.year ?? 0, "M": parts.month ?? 0, "d": parts.day ?? 0, "H": parts.hour ?? 0, "m": parts.minute ?? 0,
            "s": parts.second ?? 0, "S": (parts.nanosecond ?? 0) / 1_000_000,
        ]
        var out = ""
        var p = Array(pattern)[...]
        while let token = p.first {
            let run = p.prefix(while: { $0 == token }).count
            p = p.dropFirst(run)
            if let value = values[token] {
                let digits = String(value)
                out += String(repeating: "0", count: max(run - digits.count, 0)) + digits
            } else {
                out += String(repeating: token, count: run)
            }
        }
        return out
    }

    private func parseISO(_ c: [UInt8]) -> Date? {
        var i = 0
        guard let y = digits(c, &i, count: 4), skip(c, &i, "-"), let mo = digits(c, &i, count: 2), skip(c, &i, "-"),
            let d = digits(c, &i, count: 2)
        else { return nil }
        guard i < c.count, c[i] == UInt8(ascii: "T") || c[i] == UInt8(ascii: " ") else {
            return i == c.count ? make(year: y, month: mo, day: d, hour: 0, minute: 0, second: 0, fraction: 0, offset: nil) : nil
        }
        i += 1
        guard let h = digits(c, &i, count: 2), skip(c, &i, ":"), let mi = digits(c, &i, count: 2) else { return nil }
        var s = 0
        var fraction = 0.0
        if i < c.count, c[i] == UInt8(ascii: ":") {
            i += 1
            guard let sec = digits(c, &i, count: 2) else { return nil }
            s = sec
            if i < c.count, c[i] == UInt8(ascii: ".") || c[i] == UInt8(ascii: ",") {
                i += 1
                let start = i
                while i < c.count, c[i] >= UInt8(ascii: "0"), c[i] <= UInt8(ascii: "9") { i += 1 }
                guard i > start else { return nil }
                fraction = Double("0." + String(decoding: c[start..<i], as: UTF8.self)) ?? 0
            }
        }
        var offset: Int? = nil
        if i < c.count {
            if c[i] == UInt8(ascii: "Z") {
                offset = 0
                i += 1
            } else if c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-") {
                let sign = c[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let oh = digits(c, &i, count: 2) else { return nil }
                _ = skip(c, &i, ":")
                let om = digits(c, &i, count: 2) ?? 0
                offset = sign * (oh * 3600 + om * 60)
            }
        }
        guard i == c.count else { return nil }
        return make(year: y, month: mo, day: d, hour: h, minute: mi, second: s, fraction: fraction, offset: offset)
    }

    private func digits(_ c: [UInt8], _ i: inout Int, count: Int) -> Int? {
        guard i + count <= c.count else { return nil }
        var n = 0
        for k in i..<(i + count) {
            guard c[k] >= UInt8(ascii: "0"), c[k] <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + Int(c[k] - UInt8(ascii: "0"))
        }
        i += count
        return n
    }

    private func skip(_ c: [UInt8], _ i: inout Int, _ char: Unicode.Scalar) -> Bool {
        guard i < c.count, c[i] == UInt8(ascii: char) else { return false }
        i += 1
        return true
    }

    private func make(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: Double, offset: Int?
    ) -> Date? {
        guard (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day), (0...23).contains(hour),
            (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm), so no Calendar is needed.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let local = Double(days * 86_400 + hour * 3600 + minute * 60 + second) + fraction
        let utcGuess = Date(timeIntervalSince1970: local)
        let seconds = offset ?? zone.secondsFromGMT(for: utcGuess)
        return Date(timeIntervalSince1970: local - Double(seconds))
    }

    /// The days of a month in the proleptic Gregorian calendar, so that 02-30 is refused.
    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

