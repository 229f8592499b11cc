import Foundation

/// Readings over a limit raise warnings (`Mappings/policies/thresholds.yaml`): a river above its
/// 警戒水位 or 保证水位, a reservoir above its 汛限水位. Each rule reads one kind's readings, finds
/// the limits that hold for the reading's station on its day in another kind of the same system,
/// and keeps one warning per station and crossing: raised (CAP `Alert`) when a limit is first
/// exceeded, followed by an `Update` when the colour changes and a `Cancel` when the reading falls
/// back below every limit. Each message is a warning of its own that supersedes the one before, so
/// call-outs, sharing and "updates follow the warning" work as for a weather office's CAP.
public struct ThresholdPolicy: Sendable, Equatable {
    public var rules: [ThresholdRule]

    public init(rules: [ThresholdRule]) { self.rules = rules }

    /// No thresholds: readings raise nothing.
    public static let none = ThresholdPolicy(rules: [])

    /// The kinds some rule reads.
    public var readingKinds: Set<EntityKind> { Set(rules.map(\.readings)) }
}

/// One rule: which readings, against which limits, and the colour each limit exceeded means.
public struct ThresholdRule: Sendable, Equatable {
    /// One limit, most severe first in `levels`: the first one a reading exceeds decides the colour.
    public struct Level: Sendable, Equatable {
        /// The limits record's field holding the limit (`guaranteed_level`).
        public var over: String
        /// What the limit is called (`保证水位`); the warning's event is `超` + it.
        public var name: String
        /// The warning colour (`warning-colour` code) and its CAP severity.
        public var colour: String
        public var severity: String

        public init(over: String, name: String, colour: String, severity: String) {
            self.over = over
            self.name = name
            self.colour = colour
            self.severity = severity
        }
    }

    /// The days of the year a limits record holds, as its `MMDD` fields (`0701`–`0930`); a season
    /// may run over the new year.
    public struct Season: Sendable, Equatable {
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    public var name: String
    /// The readings' kind, the field naming their station, the value compared and the reading's time.
    public var readings: EntityKind
    public var station: String
    public var value: String
    public var at: String
    /// Only readings whose fields have one of these values (`station_type: [river]`); empty: all.
    public var when: [String: Set<String>]
    /// The limits' kind (same system), the field naming their station, and their season if they have one.
    public var limits: EntityKind
    public var limitStation: String
    public var season: Season?
    /// The stations' kind (same system; record id = the station's code), for the warning's name,
    /// division and place; nil: the warning names the station by its code.
    public var stations: EntityKind?
    public var levels: [Level]
    /// What is measured and in which unit (`水位`, `米`), for the warning's text; its CAP category.
    public var quantity: String
    public var unit: String
    public var category: String

    public init(
        name: String, readings: EntityKind, station: String, value: String, at: String, when: [String: Set<String>] = [:],
        limits: EntityKind, limitStation: String, season: Season? = nil, stations: EntityKind? = nil, levels: [Level],
        quantity: String, unit: String, category: String
    ) {
        self.name = name
        self.readings = readings
        self.station = station
        self.value = value
        self.at = at
        self.when = when
        self.limits = limits
        self.limitStation = limitStation
        self.season = season
        self.stations = stations
        self.levels = levels
        self.quantity = quantity
        self.unit = unit
        self.category = category
    }

    /// Whether a reading with these fields is this rule's.
    public func applies(to fields: [String: FieldValue]) -> Bool {
        when.allSatisfy { field, values in fields[field]?.scalarText.map(values.contains) ?? false }
    }

    /// A limit a reading exceeds: which, its value and the reading's.
    public struct Crossing: Sendable, Equatable {
        public var level: Level
        public var limit: Double
        public var value: Double
    }

    /// The most severe limit `reading` exceeds among the limits records that hold on its day; nil
    /// when it exceeds none, or has no value or time.
    public func crossing(of reading: [String: FieldValue], limits: [[String: FieldValue]]) -> Crossing? {
        guard let value = reading[value]?.numberValue, let time = reading[at]?.scalarText.flatMap(Date.init(canonicalText:)) else {
            return nil
        }
        let day = Self.monthDay(time)
        let holding = limits.filter { record in
            guard let season else { return true }
            guard let from = record[season.from]?.scalarText, let to = record[season.to]?.scalarText else { return false }
            return from <= to ? (from...to).contains(day) : day >= from || day <= to
        }
        for level in levels {
            if let limit = holding.compactMap({ $0[level.over]?.numberValue }).min(), value > limit {
                return Crossing(level: level, limit: limit, value: value)
            }
        }
        return nil
    }

    /// `MMDD` of `time` in China.
    static func monthDay(_ time: Date) -> String {
        let parts = chinaCalendar.dateComponents([.month, .day], from: time)
        return String(format: "%02d%02d", parts.month ?? 0, parts.day ?? 0)
    }

    static let chinaCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        return calendar
    }()
}
