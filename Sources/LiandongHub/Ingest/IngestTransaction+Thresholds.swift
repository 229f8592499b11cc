import Foundation
import LiandongModel
import PostgresNIO

extension IngestTransaction {
    /// The warnings the readings just stored raise, change or clear under `policies.thresholds`, in
    /// the readings' order, each kept with its reading's raw payload. The limits and stations are
    /// read from what the same system sent before (a reading that arrives before its station's limits
    /// raises nothing); a station's current warning is the latest message of the rule, read from the
    /// warning table and then carried through the batch.
    func thresholdWarnings(for readings: [(record: CanonicalRecord, rawPayloadID: Int64)]) async throws -> [(record: CanonicalRecord, rawPayloadID: Int64)] {
        var warnings: [(record: CanonicalRecord, rawPayloadID: Int64)] = []
        for rule in policies.thresholds.rules {
            let mine = readings.filter { $0.record.kind == rule.readings && rule.applies(to: $0.record.fields) }
            for (source, group) in Dictionary(grouping: mine, by: \.record.source).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let codes = Array(Set(group.compactMap { $0.record.fields[rule.station]?.scalarText })).sorted()
                let limits = try await records(of: rule.limits, from: source, whose: rule.limitStation, isOneOf: codes)
                var stations: [String: [[String: FieldValue]]] = [:]
                if let kind = rule.stations { stations = try await records(of: kind, from: source, whose: nil, isOneOf: codes) }
                var current = try await latestWarnings(of: rule, from: source, stations: codes)
                for (reading, rawPayloadID) in group {
                    guard let code = reading.fields[rule.station]?.scalarText,
                        let message = ThresholdWarning.next(
                            after: current[code], rule: rule, system: source, reading: reading.fields, limits: limits[code] ?? [],
                            station: stations[code]?.first)
                    else { continue }
                    current[code] = message.fields
                    let record = CanonicalRecord(
                        source: source, kind: .warning, externalID: message.identifier, sourceTime: reading.sourceTime, fields: message.fields,
                        links: message.supersedes.map { [CanonicalRecord.Link(type: "supersedes", targetSource: source, targetExternalID: $0)] } ?? [],
                        mapping: MappingRef(name: "policies/thresholds/\(rule.name)", version: 1))
                    warnings.append((record, rawPayloadID))
                }
            }
        }
        return warnings
    }

    /// The records of `kind` from `source` whose field `field` (their external id when nil) is one
    /// of `values`, grouped by that value.
    private func records(
        of kind: EntityKind, from source: SourceSystemID, whose field: String?, isOneOf values: [String]
    ) async throws -> [String: [[String: FieldValue]]] {
        guard kinds.all.contains(kind) else { return [:] }
        let rows = try await conn.guardedQuery(
            """
            SELECT CASE WHEN \(field)::text IS NULL THEN external_id ELSE data ->> \(field)::text END AS key, data::text
            FROM \(unescaped: kind.rawValue) WHERE source_system = \(source.rawValue)
              AND (CASE WHEN \(field)::text IS NULL THEN external_id ELSE data ->> \(field)::text END) = ANY(\(values)::text[])
            ORDER BY source_time, external_id
            """, logger: logger)
        var found: [String: [[String: FieldValue]]] = [:]
        for try await (key, data) in rows.decode((String, String).self) { found[key, default: []].append(try FieldValue.storedObject(data)) }
        return found
    }

    /// The latest warning `rule` raised for each of `stations` of `source`.
    private func latestWarnings(of rule: ThresholdRule, from source: SourceSystemID, stations: [String]) async throws -> [String: [String: FieldValue]] {
        let rows = try await conn.guardedQuery(
            """
            SELECT DISTINCT ON (data ->> 'station_code') data ->> 'station_code', data::text FROM warning
            WHERE source_system = \(source.rawValue) AND data ->> 'threshold_rule' = \(rule.name)
              AND data ->> 'station_code' = ANY(\(stations)::text[])
            ORDER BY data ->> 'station_code', source_time DESC, external_id DESC
            """, logger: logger)
        var latest: [String: [String: FieldValue]] = [:]
        for try await (station, data) in rows.decode((String, String).self) { latest[station] = try FieldValue.storedObject(data) }
        return latest
    }
}
