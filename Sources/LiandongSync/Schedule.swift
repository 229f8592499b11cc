import Foundation

/// When a stream runs: every fixed interval, or at the times a cron expression names (Asia/Shanghai),
/// with random jitter added so that instances and streams do not all fire at once.
public struct Schedule: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case every(TimeInterval)
        case cron(CronExpression)
    }

    public var kind: Kind
    /// Up to this many seconds are added at random to each run time.
    public var jitter: TimeInterval

    public init(_ kind: Kind, jitter: TimeInterval = 0) {
        self.kind = kind
        self.jitter = jitter
    }

    /// The next run after a run that ended at `now`; with `failures` in a row, the interval doubles per
    /// failure (at most `maxBackoff`), so a failing agency is asked less often and recovers by itself.
    public func next(after now: Date, failures: Int = 0, maxBackoff: TimeInterval = 600) -> Date {
        let jitterSeconds = jitter > 0 ? Double.random(in: 0...jitter) : 0
        if failures > 0 {
            let base: TimeInterval
            switch kind {
            case .every(let interval): base = interval
            case .cron: base = 30
            }
            return now.addingTimeInterval(min(maxBackoff, base * pow(2, Double(min(failures, 20)))) + jitterSeconds)
        }
        switch kind {
        case .every(let interval): return now.addingTimeInterval(interval + jitterSeconds)
        case .cron(let cron): return (cron.next(after: now) ?? now.addingTimeInterval(86_400)).addingTimeInterval(jitterSeconds)
        }
    }
}

/// A five-field cron expression (minute hour day-of-month month day-of-week) with `*`, `*/n`, `a-b`,
/// `a-b/n` and lists, evaluated in Asia/Shanghai. Day-of-week 0 and 7 are Sunday. When both day fields
/// are restricted, either matching is enough (as in Vixie cron).
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool
    public let description: String

    /// Parses `text`; the error names the field that is wrong.
    public init(_ text: String) throws(CronError) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else { throw CronError(message: "expected 5 fields (minute hour day month weekday), got \(fields.count)") }
        minutes = try Self.parse(fields[0], name: "minute", range: 0...59)
        hours = try Self.parse(fields[1], name: "hour", range: 0...23)
        days = try Self.parse(fields[2], name: "day of month", range: 1...31)
        months = try Self.parse(fields[3], name: "month", range: 1...12)
        weekdays = Set(try Self.parse(fields[4], name: "day of week", range: 0...7).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
        description = text
    }

    /// A cron expression that cannot be read.
    public struct CronError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    static func parse(_ field: String, name: String, range: ClosedRange<Int>) throws(CronError) -> Set<Int> {
        var values = Set<Int>()
        for part in field.split(separator: ",") {
            let pieces = part.split(separator: "/", maxSplits: 1)
            var step = 1
            if pieces.count == 2 {
                guard let n = Int(pieces[1]), n > 0 else { throw CronError(message: "\(name): bad step in '\(part)'") }
                step = n
            }
            var span = range
            if pieces[0] != "*" {
                let bounds = pieces[0].split(separator: "-", maxSplits: 1).map { Int($0) }
                guard let low = bounds.first ?? nil, range.contains(low) else {
                    throw CronError(message: "\(name): '\(part)' is not within \(range.lowerBound)-\(range.upperBound)")
                }
                let high = bounds.count == 2 ? bounds[1] : (pieces.count == 2 ? range.upperBound : low)
                guard let high, range.contains(high), high >= low else {
                    throw CronError(message: "\(name): '\(part)' is not within \(range.lowerBound)-\(range.upperBound)")
                }
                span = low...high
            }
            values.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return values
    }

    static let zone = TimeZone(identifier: "Asia/Shanghai")!

    /// The first matching minute after `date`, within a year and a bit.
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.zone
        // The next whole minute (minute boundaries are the same in UTC and Asia/Shanghai).
        var t = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        for _ in 0..<(366 * 24 * 60) {
            let c = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: t)
            let dayMatches: Bool
            let dom = days.contains(c.day!)
            let dow = weekdays.contains(c.weekday! - 1)
            switch (daysRestricted, weekdaysRestricted) {
            case (true, true): dayMatches = dom || dow
            case (true, false): dayMatches = dom
            case (false, true): dayMatches = dow
            case (false, false): dayMatches = true
            }
            if minutes.contains(c.minute!), hours.contains(c.hour!), months.contains(c.month!), dayMatches { return t }
            t = t.addingTimeInterval(60)
        }
        return nil
    }
}
