import Foundation
import LiandongModel

/// `Mappings/policies/thresholds.yaml` as written. See `docs/sharing.md`, "Warnings raised by readings".
///
/// ```yaml
/// rules:
///   - name: river-level
///     readings: {kind: water_level, station: station_code, value: level, at: measured_at, when: {station_type: [river]}}
///     limits: {kind: water_limit, station: station_code}          # season: {from: begins, to: ends}
///     stations: water_station
///     levels:                                                     # most severe first
///       - {over: highest_level, name: 历史最高水位, colour: red, severity: Extreme}
///       - {over: guaranteed_level, name: 保证水位, colour: orange, severity: Severe}
///     quantity: 水位
///     unit: 米
///     category: Met
/// ```
struct ThresholdFile: Decodable {
    var policy: ThresholdPolicy

    enum CodingKeys: String, CodingKey, CaseIterable { case rules }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policy = ThresholdPolicy(rules: try c.decode([RuleSpec].self, forKey: .rules).map(\.rule))
    }

    struct RuleSpec: Decodable {
        var rule: ThresholdRule

        enum CodingKeys: String, CodingKey, CaseIterable { case name, readings, limits, stations, levels, quantity, unit, category }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let readings = try c.decode(ReadingsSpec.self, forKey: .readings)
            let limits = try c.decode(LimitsSpec.self, forKey: .limits)
            let stations = try c.decodeIfPresent(String.self, forKey: .stations)
            let known = decoder.recordKinds.all.map(\.rawValue)
            for (key, kind) in [(CodingKeys.readings, readings.kind), (.limits, limits.kind), (.stations, stations)] {
                guard let kind, !known.contains(kind) || kind == EntityKind.warning.rawValue else { continue }
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [key],
                        debugDescription: "'\(kind)' is not a mapped kind (warnings are what rules raise); expected one of: \(known.joined(separator: ", "))"))
            }
            let levels = try c.decode([LevelSpec].self, forKey: .levels).map(\.level)
            guard !levels.isEmpty else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + [CodingKeys.levels], debugDescription: "name at least one limit, most severe first"))
            }
            rule = ThresholdRule(
                name: try c.decode(String.self, forKey: .name), readings: EntityKind(rawValue: readings.kind), station: readings.station,
                value: readings.value, at: readings.at, when: readings.when, limits: EntityKind(rawValue: limits.kind),
                limitStation: limits.station, season: limits.season, stations: stations.map(EntityKind.init(rawValue:)), levels: levels,
                quantity: try c.decode(String.self, forKey: .quantity), unit: try c.decodeIfPresent(String.self, forKey: .unit) ?? "",
                category: try c.decodeIfPresent(String.self, forKey: .category) ?? "Met")
        }
    }

    /// `readings: {kind: water_level, station: station_code, value: level, at: measured_at, when: {…}}`.
    struct ReadingsSpec: Decodable {
        var kind: String
        var station: String
        var value: String
        var at: String
        var when: [String: Set<String>]

        enum CodingKeys: String, CodingKey, CaseIterable { case kind, station, value, at, when }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decode(String.self, forKey: .kind)
            station = try c.decode(String.self, forKey: .station)
            value = try c.decode(String.self, forKey: .value)
            at = try c.decode(String.self, forKey: .at)
            when = try (c.decodeIfPresent([String: [String]].self, forKey: .when) ?? [:]).mapValues(Set.init)
        }
    }

    /// `limits: {kind: reservoir_limit, station: station_code, season: {from: begins, to: ends}}`.
    struct LimitsSpec: Decodable {
        var kind: String
        var station: String
        var season: ThresholdRule.Season?

        enum CodingKeys: String, CodingKey, CaseIterable { case kind, station, season }
        enum SeasonKeys: String, CodingKey, CaseIterable { case from, to }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decode(String.self, forKey: .kind)
            station = try c.decode(String.self, forKey: .station)
            if c.contains(.season) {
                let s = try c.nestedContainer(keyedBy: SeasonKeys.self, forKey: .season)
                season = ThresholdRule.Season(from: try s.decode(String.self, forKey: .from), to: try s.decode(String.self, forKey: .to))
            }
        }
    }

    /// `{over: guaranteed_level, name: 保证水位, colour: orange, severity: Severe}`.
    struct LevelSpec: Decodable {
        var level: ThresholdRule.Level

        enum CodingKeys: String, CodingKey, CaseIterable { case over, name, colour, severity }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let severity = try c.decode(String.self, forKey: .severity)
            guard ["Extreme", "Severe", "Moderate", "Minor", "Unknown"].contains(severity) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.severity],
                        debugDescription: "'\(severity)' is not a CAP 1.2 severity; expected Extreme, Severe, Moderate, Minor or Unknown"))
            }
            level = ThresholdRule.Level(
                over: try c.decode(String.self, forKey: .over), name: try c.decode(String.self, forKey: .name),
                colour: try c.decode(String.self, forKey: .colour), severity: severity)
        }
    }
}

extension MappingCatalog {
    /// Loads `policies/thresholds.yaml` below `directory`; without it, readings raise nothing. Every
    /// colour must be a code of `warning-colour`.
    static func loadThresholds(_ directory: URL, codeLists: [String: CodeList], kinds: RecordKinds) throws(LoadError) -> ThresholdPolicy {
        let url = directory.appendingPathComponent("policies").appendingPathComponent("thresholds.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else { return .none }
        let file: ThresholdFile = try decode(url, kinds: kinds)
        let colours = codeLists["warning-colour"]?.codes ?? [:]
        for (index, rule) in file.policy.rules.enumerated() {
            for (n, level) in rule.levels.enumerated() where colours[level.colour] == nil {
                throw LoadError(
                    file: url.path, key: "rules[\(index)].levels[\(n)].colour",
                    message: "'\(level.colour)' is not a warning colour; expected one of: \(colours.keys.sorted().joined(separator: ", "))")
            }
        }
        return file.policy
    }
}
