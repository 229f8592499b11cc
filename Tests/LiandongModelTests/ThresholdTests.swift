import Foundation
import LiandongModel
import Testing

/// Threshold rules: which limit a reading exceeds on its day, and the warning messages a station's
/// readings lead to.
@Suite struct ThresholdTests {
    static let river = ThresholdRule(
        name: "river-level", readings: EntityKind(rawValue: "water_level"), station: "station_code", value: "level", at: "measured_at",
        when: ["station_type": ["river"]], limits: EntityKind(rawValue: "water_limit"), limitStation: "station_code", stations: EntityKind(rawValue: "water_station"),
        levels: [
            .init(over: "guaranteed_level", name: "保证水位", colour: "orange", severity: "Severe"),
            .init(over: "warning_level", name: "警戒水位", colour: "yellow", severity: "Moderate"),
        ],
        quantity: "水位", unit: "米", category: "Met")
    static let limits: [[String: FieldValue]] = [["station_code": "62402300", "warning_level": .number(25.5), "guaranteed_level": 27]]
    static let station: [String: FieldValue] = [
        "name": "梓坊", "division_code": "360426", "location": .object(["lat": .number(29.33), "lon": .number(115.76)]),
    ]

    static func reading(_ level: Double, at time: String, type: String = "river") -> [String: FieldValue] {
        ["station_code": "62402300", "station_type": .string(type), "level": .number(level), "measured_at": .string(time)]
    }

    @Test func theMostSevereLimitExceededDecides() {
        #expect(Self.river.crossing(of: Self.reading(25.5, at: "2026-07-13T23:00:00Z"), limits: Self.limits) == nil, "at the limit is not over it")
        #expect(Self.river.crossing(of: Self.reading(25.74, at: "2026-07-13T23:00:00Z"), limits: Self.limits)?.level.colour == "yellow")
        #expect(Self.river.crossing(of: Self.reading(27.42, at: "2026-07-13T23:00:00Z"), limits: Self.limits)?.level.colour == "orange")
        #expect(Self.river.crossing(of: ["station_code": "62402300", "level": "not read"], limits: Self.limits) == nil)
        #expect(Self.river.applies(to: Self.reading(30, at: "2026-07-13T23:00:00Z")))
        #expect(!Self.river.applies(to: Self.reading(30, at: "2026-07-13T23:00:00Z", type: "reservoir")))
    }

    /// A season is the reading's day in China, and may run over the new year.
    @Test func aSeasonalLimitHoldsOnItsDaysInChina() {
        var rule = Self.river
        rule.season = .init(from: "begins", to: "ends")
        let seasons: [[String: FieldValue]] = [
            ["warning_level": 20, "begins": "0701", "ends": "0930"], ["warning_level": 10, "begins": "1101", "ends": "0228"],
        ]
        // 2026-06-30T16:30Z is 07-01 00:30 in China: the summer limit holds.
        #expect(rule.crossing(of: Self.reading(21, at: "2026-06-30T16:30:00Z"), limits: seasons)?.limit == 20)
        #expect(rule.crossing(of: Self.reading(21, at: "2026-06-30T15:30:00Z"), limits: seasons) == nil, "06-30 23:30 in China: no limit holds")
        #expect(rule.crossing(of: Self.reading(11, at: "2027-01-15T00:00:00Z"), limits: seasons)?.limit == 10, "over the new year")
    }

    @Test func aStationsReadingsRaiseUpdateAndCancelOneWarning() throws {
        var current: [String: FieldValue]?
        var messages: [ThresholdWarning] = []
        for (level, time) in [(25.3, "2026-07-13T22:00:00Z"), (25.74, "2026-07-13T23:00:00Z"), (25.9, "2026-07-14T00:00:00Z"),
                              (27.05, "2026-07-14T02:00:00Z"), (26.5, "2026-07-14T06:00:00Z"), (25.36, "2026-07-14T10:00:00Z"),
                              (25.0, "2026-07-14T11:00:00Z")]
        {
            guard let message = ThresholdWarning.next(
                after: current, rule: Self.river, system: "water", reading: Self.reading(level, at: time), limits: Self.limits, station: Self.station)
            else { continue }
            current = message.fields
            messages.append(message)
        }
        #expect(messages.map { $0.fields["msg_type"]?.stringValue } == ["Alert", "Update", "Update", "Cancel"])
        #expect(messages.map { $0.fields["colour"]?.stringValue } == ["yellow", "orange", "yellow", "yellow"])
        #expect(messages.map(\.identifier) == ["070000", "100000", "140000", "180000"].map { "water-62402300-20260714\($0)" })
        #expect(messages.map(\.supersedes) == [nil] + messages.dropLast().map(\.identifier))
        let orange = try #require(messages[1].fields["info"]?.arrayValue?.first?.objectValue)
        #expect(orange["headline"]?.stringValue == "梓坊站水位超保证水位")
        #expect(orange["description"]?.stringValue == "梓坊站2026-07-14 10:00实测水位27.05米，超过保证水位27米0.05米。")
        #expect(orange["severity"]?.stringValue == "Severe")
        #expect(messages[1].fields["division_code"]?.stringValue == "360426")
        #expect(messages[1].fields["references"]?.arrayValue?.first?.stringValue == "water,water-62402300-20260714070000,2026-07-13T23:00:00Z")
        // A reading without a value clears nothing.
        let active = try #require(messages.dropLast().last?.fields)
        #expect(
            ThresholdWarning.next(
                after: active, rule: Self.river, system: "water", reading: ["station_code": "62402300", "measured_at": "2026-07-14T09:00:00Z"],
                limits: Self.limits, station: Self.station) == nil)
        // Once cancelled, the next crossing is a new warning of its own.
        let again = ThresholdWarning.next(
            after: current, rule: Self.river, system: "water", reading: Self.reading(26, at: "2026-07-15T00:00:00Z"), limits: Self.limits,
            station: Self.station)
        #expect(again?.fields["msg_type"]?.stringValue == "Alert" && again?.supersedes == nil && again?.fields["references"] == nil)
    }
}
