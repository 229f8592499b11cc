import Crypto
import Foundation
import LiandongModel
import Logging
import PostgresNIO

/// Identity resolution and the authority merge, inside a hub transaction: links reports to incidents
/// (xref, then explicit cross-reference, then match score) and recomputes the incidents they are in.
/// Every statement covers the whole batch.
struct IncidentResolver {
    let conn: PostgresConnection
    let logger: Logger
    let policy: IncidentPolicy

    /// A report's link to an incident, about to be written.
    struct Assignment {
        var reportID: UUID
        var kind: EntityKind
        var reportKey: String
        var incidentID: UUID
        var reason: String
        var score: MatchScore?
    }

    /// Links every touched report that has no incident yet, then recomputes every incident a touched
    /// report is in. Returns the audit drafts, in a deterministic order.
    func resolve(_ touched: [UUID: CanonicalRecord]) async throws -> [AuditDraft] {
        guard !touched.isEmpty else { return [] }
        var incidents = Set<UUID>()
        let linked = try await incidentsOf(Array(touched.keys))
        incidents.formUnion(linked.values)
        let unlinked = touched.filter { linked[$0.key] == nil }
            .sorted { ($0.value.sourceTime, $0.value.reportKey) < ($1.value.sourceTime, $1.value.reportKey) }
        var drafts: [AuditDraft] = []
        if !unlinked.isEmpty {
            let (assignments, candidates) = try await link(unlinked)
            incidents.formUnion(assignments.map(\.incidentID))
            drafts += try await write(assignments, newIncidents: assignments.filter { $0.reason == "new" }.map(\.incidentID))
            drafts += try await write(candidates)
        }
        drafts += try await recompute(incidents)
        return drafts
    }

    /// The incident of each report that has one.
    func incidentsOf(_ reports: [UUID]) async throws -> [UUID: UUID] {
        var result: [UUID: UUID] = [:]
        let rows = try await conn.query(
            "SELECT report_id, incident_id FROM incident_report WHERE report_id = ANY(\(reports)::uuid[])", logger: logger)
        for try await (report, incident) in rows.decode((UUID, UUID).self) { result[report] = incident }
        return result
    }

    /// Decides an incident for each unlinked report, in source-time order, so that reports in one batch
    /// can link to each other.
    func link(_ unlinked: [(key: UUID, value: CanonicalRecord)]) async throws -> ([Assignment], [CandidateWrite]) {
        let records = unlinked.map(\.value)
        var explicit = try await explicitTargets(of: records)
        var open = try await openIncidents(near: records)
        // Reports of this batch already placed, by their key and by the keys they name.
        var assigned: [String: UUID] = [:]
        func assign(_ record: CanonicalRecord, to incident: UUID) {
            assigned[record.reportKey] = incident
            for link in record.links where link.type != "supersedes" {
                explicit.namedBy["\(link.targetSource.rawValue):\(link.targetExternalID)"] = (incident, link.type)
            }
        }
        var assignments: [Assignment] = []
        var candidates: [CandidateWrite] = []
        for (id, record) in unlinked {
            let key = record.reportKey
            let features = features(of: record)
            // 1. An explicit cross-reference, either way: this report names another, or another names it.
            if let target = explicitMatch(record, explicit: explicit, assigned: assigned) {
                assignments.append(
                    Assignment(reportID: id, kind: record.kind, reportKey: key, incidentID: target.incident, reason: target.reason, score: nil))
                assign(record, to: target.incident)
                continue
            }
            // 2. The best match score among open incidents.
            // Equal scores go to the incident created first, so the outcome never depends on random ids.
            let scored = open.compactMap { incident in
                policy.matching.score(features, against: incident.features).map { (incident: incident.id, order: incident.order, score: $0) }
            }
            .sorted { $0.score.total != $1.score.total ? $0.score.total > $1.score.total : $0.order < $1.order }
            if let best = scored.first, best.score.total >= policy.matching.autoLink {
                assignments.append(
                    Assignment(reportID: id, kind: record.kind, reportKey: key, incidentID: best.incident, reason: "match", score: best.score))
                assign(record, to: best.incident)
                continue
            }
            let incident = UUID()
            assignments.append(Assignment(reportID: id, kind: record.kind, reportKey: key, incidentID: incident, reason: "new", score: nil))
            assign(record, to: incident)
            open.append(OpenIncident(id: incident, order: Int64.max - Int64(unlinked.count) + Int64(assignments.count), features: features))
            if let best = scored.first, best.score.total >= policy.matching.candidate {
                candidates.append(CandidateWrite(reportID: id, kind: record.kind, reportKey: key, incidentID: best.incident, score: best.score))
            }
        }
        return (assignments, candidates)
    }

    /// A report's features for matching: its own fields projected onto the incident's.
    func features(of record: CanonicalRecord) -> MatchFeatures {
        let report = IncidentReport(
            kind: record.kind, source: record.source, externalID: record.externalID, sourceTime: record.sourceTime,
            fields: record.fields)
        return MatchFeatures(incidentFields: IncidentMerge.decide([report], policy: policy.authority).fields)
    }

    struct OpenIncident {
        var id: UUID
        /// Creation order: the incident's number, or after every stored one for one made in this batch.
        var order: Int64
        var features: MatchFeatures
    }

    /// Incidents not merged away whose first report is within the time limit of these reports.
    func openIncidents(near records: [CanonicalRecord]) async throws -> [OpenIncident] {
        let times = records.compactMap { features(of: $0).time }
        guard policy.matching.autoLink.isFinite, let first = times.min(), let last = times.max() else { return [] }
        let limit = policy.matching.timeLimit
        let rows = try await conn.query(
            """
            SELECT id, no, data::text FROM incident
            WHERE merged_into IS NULL AND reported_at BETWEEN \(first.addingTimeInterval(-limit)) AND \(last.addingTimeInterval(limit))
            """, logger: logger)
        var result: [OpenIncident] = []
        for try await (id, no, data) in rows.decode((UUID, Int64, String).self) {
            let fields = (try? FieldValue(jsonText: data))?.objectValue ?? [:]
            result.append(OpenIncident(id: id, order: no, features: MatchFeatures(incidentFields: fields)))
        }
        return result
    }

    /// Incidents reachable by explicit cross-reference: reports these records name (by their key), and
    /// reports that name these records (by the named record's key), with the link type.
    struct ExplicitTargets {
        var named: [String: UUID] = [:]
        var namedBy: [String: (incident: UUID, type: String)] = [:]
    }

    func explicitTargets(of records: [CanonicalRecord]) async throws -> ExplicitTargets {
        var targets = ExplicitTargets()
        let links = records.flatMap(\.links).filter { $0.type != "supersedes" }
        if !links.isEmpty {
            let rows = try await conn.query(
                """
                SELECT x.source_system, x.external_id, r.incident_id
                FROM xref x JOIN incident_report r ON r.report_id = x.entity_id
                WHERE (x.source_system, x.external_id) IN (
                    SELECT * FROM UNNEST(\(links.map(\.targetSource.rawValue))::text[], \(links.map(\.targetExternalID))::text[]))
                """, logger: logger)
            for try await (source, externalID, incident) in rows.decode((String, String, UUID).self) {
                targets.named["\(source):\(externalID)"] = incident
            }
        }
        let rows = try await conn.query(
            """
            SELECT l.target_source, l.target_external_id, l.link_type, r.incident_id
            FROM entity_link l JOIN incident_report r ON r.report_id = l.from_entity
            WHERE l.link_type <> 'supersedes' AND (l.target_source, l.target_external_id) IN (
                SELECT * FROM UNNEST(\(records.map(\.source.rawValue))::text[], \(records.map(\.externalID))::text[]))
            ORDER BY l.id
            """, logger: logger)
        for try await (source, externalID, type, incident) in rows.decode((String, String, String, UUID).self) {
            targets.namedBy["\(source):\(externalID)"] = (incident, type)
        }
        return targets
    }

    func explicitMatch(
        _ record: CanonicalRecord, explicit: ExplicitTargets, assigned: [String: UUID]
    ) -> (incident: UUID, reason: String)? {
        for link in record.links where link.type != "supersedes" {
            let key = "\(link.targetSource.rawValue):\(link.targetExternalID)"
            if let incident = assigned[key] ?? explicit.named[key] { return (incident, "explicit:\(link.type)") }
        }
        if let (incident, type) = explicit.namedBy[record.reportKey] { return (incident, "explicit:\(type)") }
        return nil
    }

    /// Stores new incidents (empty until recomputed) and the report links; returns their audit drafts.
    /// New incidents are numbered in the order given (the reports' source-time order).
    func write(_ assignments: [Assignment], newIncidents created: [UUID]) async throws -> [AuditDraft] {
        if !created.isEmpty {
            try await conn.query(
                """
                INSERT INTO incident (id, version, data, provenance, content_hash)
                SELECT id, 0, '{}', '{}', '\\x' FROM UNNEST(\(created)::uuid[]) WITH ORDINALITY AS t(id, n) ORDER BY n
                """, logger: logger)
        }
        try await conn.query(
            """
            INSERT INTO incident_report (report_id, report_kind, incident_id, reason, score)
            SELECT t.r, t.k, t.i, t.reason, NULLIF(t.s, '')::jsonb
            FROM UNNEST(\(assignments.map(\.reportID))::uuid[], \(assignments.map(\.kind.rawValue))::text[],
                        \(assignments.map(\.incidentID))::uuid[], \(assignments.map(\.reason))::text[],
                        \(assignments.map { $0.score.map(Self.json) ?? "" })::text[]) AS t(r, k, i, reason, s)
            """, logger: logger)
        return assignments.map { a in
            AuditDraft(
                action: "incident.link", entityKind: EntityKind.incident.rawValue, entityID: a.incidentID.uuidString.lowercased(),
                content: [
                    "report": .string(a.reportKey), "report_kind": .string(a.kind.rawValue), "reason": .string(a.reason),
                    "score": a.score.map { .number($0.total) } ?? .null,
                ])
        }
    }

    /// A match between the thresholds, waiting for a person.
    struct CandidateWrite {
        var reportID: UUID
        var kind: EntityKind
        var reportKey: String
        var incidentID: UUID
        var score: MatchScore
    }

    func write(_ candidates: [CandidateWrite]) async throws -> [AuditDraft] {
        guard !candidates.isEmpty else { return [] }
        let rows = try await conn.query(
            """
            INSERT INTO link_candidate (report_id, report_kind, incident_id, score)
            SELECT * FROM UNNEST(\(candidates.map(\.reportID))::uuid[], \(candidates.map(\.kind.rawValue))::text[],
                                 \(candidates.map(\.incidentID))::uuid[], \(candidates.map { Self.json($0.score) })::jsonb[])
            ON CONFLICT (report_id, incident_id) DO NOTHING
            RETURNING id, report_id
            """, logger: logger)
        var ids: [UUID: Int64] = [:]
        for try await (id, report) in rows.decode((Int64, UUID).self) { ids[report] = id }
        return candidates.compactMap { c in
            ids[c.reportID].map { id in
                AuditDraft(
                    action: "incident.candidate", entityKind: EntityKind.incident.rawValue,
                    entityID: c.incidentID.uuidString.lowercased(),
                    content: ["candidate": .number(Double(id)), "report": .string(c.reportKey), "score": .number(c.score.total)])
            }
        }
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}

extension CanonicalRecord {
    /// `source:external_id`, how the hub names a report in incidents, decisions and audit entries.
    var reportKey: String { "\(source.rawValue):\(externalID)" }
}
