import Crypto
import Foundation
import LiandongModel
import PostgresNIO

extension IncidentResolver {
    /// An incident's new state, as `recompute` writes it.
    struct IncidentWrite {
        var id: UUID
        var version: Int
        var decision: IncidentDecision
        /// The decision as stored and hashed: canonical JSON of its fields and of their provenance.
        var stored: StoredDecision
    }

    /// A decision's fields and provenance as canonical JSON, and the content hash over both: written
    /// once per decision, since the hash and the row need the same text.
    struct StoredDecision: Sendable {
        var data: String
        var provenance: String
        var hash: String

        init(_ decision: IncidentDecision) {
            data = FieldValue.object(decision.fields).canonicalJSON
            provenance = FieldValue.object(decision.provenance.mapValues(\.fieldValue)).canonicalJSON
            hash = Array(SHA256.hash(data: Data((data + "\n" + provenance).utf8))).hexString
        }
    }

    /// The stored state of an incident before recomputing it.
    struct StoredIncident: Sendable {
        var no: Int64
        var version: Int
        var fields: [String: FieldValue]
        var contentHash: String
    }

    /// Recomputes each incident from its reports under the authority policy: fields, provenance, losing
    /// values and conflicts. An incident with no reports left is skipped. `created` are incidents
    /// identity resolution has just opened, in the order they were opened: they are inserted here
    /// with their first decision (numbered in that order), the others updated.
    func recompute(_ incidents: Set<UUID>, created: [UUID] = []) async throws -> ChangeSet {
        guard !incidents.isEmpty else { return [] }
        let ids = Array(incidents)
        var stored: [UUID: StoredIncident] = [:]
        for try await (id, no, version, data, hash) in try await conn.guardedQuery(
            "SELECT id, no, version, data::text, encode(content_hash, 'hex') FROM incident WHERE id = ANY(\(ids)::uuid[])",
            logger: logger
        ).decode((UUID, Int64, Int, String, String).self) {
            stored[id] = StoredIncident(no: no, version: version, fields: try FieldValue.storedObject(data), contentHash: hash)
        }
        // Not numbered yet: after every stored incident, in the order they were opened.
        for (index, id) in created.enumerated() where stored[id] == nil {
            stored[id] = StoredIncident(no: .max - Int64(created.count - index), version: 0, fields: [:], contentHash: "")
        }
        let members = try await reports(of: ids)
        let resolutions = try await conflictResolutions()
        var writes: [IncidentWrite] = []
        var drafts = ChangeSet()
        // By number, so that audit entries come in the same order on every run. The decisions are
        // independent of one another: made on every core.
        let ordered = ids.compactMap { id in
            members[id].flatMap { reports in reports.isEmpty ? nil : stored[id].map { (id, reports, $0) } }
        }.sorted { $0.2.no < $1.2.no }
        let authority = policy.authority
        let decisions = ordered.concurrentMap { _, reports, _ in
            let decision = IncidentMerge.decide(reports, policy: authority, resolutions: resolutions)
            return (decision, StoredDecision(decision))
        }
        for ((id, reports, before), (decision, stored)) in zip(ordered, decisions) {
            let hash = stored.hash
            let version = before.contentHash == hash ? before.version : before.version + 1
            writes.append(IncidentWrite(id: id, version: version, decision: decision, stored: stored))
            decided.record(
                CurrentEntity(
                    id: id, version: version,
                    subject: SharedSubject(kind: .incident, fields: decision.fields, sources: Set(reports.map(\.source)))))
            guard before.contentHash != hash else { continue }
            let names = Set(before.fields.keys).union(decision.fields.keys).sorted().filter { before.fields[$0] != decision.fields[$0] }
            drafts.append(
                AuditDraft(
                    action: before.version == 0 ? .incidentCreate : .incidentUpdate, entityKind: EntityKind.incident.rawValue,
                    entityID: id.lowercasedText,
                    content: [
                        "authority_policy_version": .number(Double(policy.authority.version)),
                        "before": .object(Dictionary(uniqueKeysWithValues: names.map { ($0, before.fields[$0] ?? .null) })),
                        "after": .object(Dictionary(uniqueKeysWithValues: names.map { ($0, decision.fields[$0] ?? .null) })),
                        "decided_by": .object(
                            Dictionary(uniqueKeysWithValues: names.compactMap { name in
                                decision.provenance[name].map { (name, FieldValue.string("\($0.report) (\($0.rule))")) }
                            })),
                    ]),
                newVersionOf: .incident, id: id)
        }
        guard !writes.isEmpty else { return drafts }
        write(writes, opened: Set(created))
        let written = writes.map(\.id)
        pending.send("DELETE FROM incident_alternate WHERE incident_id = ANY(\(written)::uuid[])")
        let alternates = writes.flatMap { w in w.decision.alternates.map { (w.id, $0) } }
        if !alternates.isEmpty {
            pending.send(
                """
                INSERT INTO incident_alternate (incident_id, field, value, source_system, report, source_time, reason)
                SELECT t.i, t.f, t.v::jsonb, t.s, t.r, t.st, t.why
                FROM UNNEST(\(alternates.map(\.0))::uuid[], \(alternates.map(\.1.field))::text[],
                            \(alternates.map(\.1.value.canonicalJSON))::text[], \(alternates.map(\.1.source))::text[],
                            \(alternates.map(\.1.report))::text[], \(alternates.map(\.1.sourceTime))::timestamptz[],
                            \(alternates.map(\.1.reason))::text[]) AS t(i, f, v, s, r, st, why)
                """)
        }
        drafts += try await writeConflicts(
            writes.flatMap { w in w.decision.conflicts.map { (w.id, $0) } }, incidents: written, resolutions: resolutions)
        return drafts
    }

    /// Sends the inserts of the incidents of `opened` among `writes` (in the order of `writes`, so that
    /// they are numbered in it) and the updates of the others.
    private func write(_ writes: [IncidentWrite], opened: Set<UUID>) {
        let (inserts, updates) = (writes.filter { opened.contains($0.id) }, writes.filter { !opened.contains($0.id) })
        let columns = { (rows: [IncidentWrite]) in
            (rows.map(\.id), rows.map(\.version), rows.map(\.stored.data), rows.map(\.stored.provenance), rows.map(\.stored.hash))
        }
        if !inserts.isEmpty {
            let (ids, versions, data, provenance, hashes) = columns(inserts)
            pending.send(
                """
                INSERT INTO incident (id, version, data, provenance, content_hash)
                SELECT t.id, t.v, t.d::jsonb, t.p::jsonb, decode(t.h, 'hex')
                FROM UNNEST(\(ids)::uuid[], \(versions)::int[], \(data)::text[], \(provenance)::text[], \(hashes)::text[])
                     WITH ORDINALITY AS t(id, v, d, p, h, n)
                ORDER BY t.n
                """)
        }
        if !updates.isEmpty {
            let (ids, versions, data, provenance, hashes) = columns(updates)
            pending.send(
                """
                UPDATE incident i SET version = t.v, data = t.d::jsonb, provenance = t.p::jsonb, content_hash = decode(t.h, 'hex'),
                    updated_at = CASE WHEN i.content_hash = decode(t.h, 'hex') THEN i.updated_at ELSE now() END
                FROM UNNEST(\(ids)::uuid[], \(versions)::int[], \(data)::text[], \(provenance)::text[], \(hashes)::text[])
                     AS t(id, v, d, p, h)
                WHERE i.id = t.id
                """)
        }
    }

    /// Opens conflicts not seen before (one a person already decided is stored resolved) and supersedes
    /// open ones that no longer hold.
    func writeConflicts(
        _ conflicts: [(UUID, IncidentDecision.Conflict)], incidents: [UUID], resolutions: [String: FieldValue]
    ) async throws -> ChangeSet {
        pending.send(
            """
            UPDATE conflict SET status = 'superseded', decided_at = now()
            WHERE status = 'open' AND incident_id = ANY(\(incidents)::uuid[])
              AND (incident_id, key) NOT IN (SELECT * FROM UNNEST(\(conflicts.map(\.0))::uuid[], \(conflicts.map(\.1.key))::text[]))
            """)
        guard !conflicts.isEmpty else { return [] }
        let rows = try await conn.guardedQuery(
            """
            INSERT INTO conflict (incident_id, field, key, candidates, status, resolution)
            SELECT t.i, t.f, t.k, t.c, CASE WHEN t.r = '' THEN 'open' ELSE 'resolved' END, NULLIF(t.r, '')::jsonb
            FROM UNNEST(\(conflicts.map(\.0))::uuid[], \(conflicts.map(\.1.field))::text[], \(conflicts.map(\.1.key))::text[],
                        \(conflicts.map { Self.json($0.1.candidates) })::jsonb[],
                        \(conflicts.map { resolutions[$0.1.key]?.canonicalJSON ?? "" })::text[]) AS t(i, f, k, c, r)
            ON CONFLICT (incident_id, key) DO UPDATE SET status = 'open', decided_at = NULL
                WHERE conflict.status = 'superseded'
            RETURNING id, incident_id, key
            """, logger: logger)
        var ids: [String: Int64] = [:]
        for try await (id, incident, key) in rows.decode((Int64, UUID, String).self) { ids["\(incident)\(key)"] = id }
        return ChangeSet() + conflicts.compactMap { incident, conflict in
            guard resolutions[conflict.key] == nil else { return nil }
            return ids["\(incident)\(conflict.key)"].map { id in
                AuditDraft(
                    action: .conflictOpen, entityKind: EntityKind.incident.rawValue, entityID: incident.lowercasedText,
                    content: [
                        "conflict": .number(Double(id)), "field": .string(conflict.field),
                        "values": .array(conflict.candidates.map { .string("\($0.report)=\($0.value.canonicalJSON)") }),
                    ])
            }
        }
    }

    /// Every report of these incidents as the merge sees it, lifecycle history included.
    func reports(of incidents: [UUID]) async throws -> [UUID: [IncidentReport]] {
        var kinds: [EntityKind: [(report: UUID, incident: UUID)]] = [:]
        for try await (report, kind, incident) in try await conn.guardedQuery(
            "SELECT report_id, report_kind, incident_id FROM incident_report WHERE incident_id = ANY(\(incidents)::uuid[])",
            logger: logger
        ).decode((UUID, String, UUID).self) {
            kinds[EntityKind(rawValue: kind), default: []].append((report, incident))
        }
        let lifecycleFields = Array(
            Set(policy.authority.fields.filter { $0.value.lifecycle != nil }.flatMap { [$0.key] + $0.value.from.values }))
        var result: [UUID: [IncidentReport]] = [:]
        for (kind, links) in kinds {
            let incidentOf = Dictionary(uniqueKeysWithValues: links.map { ($0.report, $0.incident) })
            let ids = links.map(\.report)
            var history: [UUID: [String: [IncidentReport.TimedValue]]] = [:]
            if !lifecycleFields.isEmpty {
                for try await (id, field, value, time) in try await conn.guardedQuery(
                    """
                    SELECT entity_id, field, value::text, source_time FROM alternate_value
                    WHERE entity_id = ANY(\(ids)::uuid[]) AND field = ANY(\(lifecycleFields)::text[])
                    """, logger: logger
                ).decode((UUID, String, String, Date).self) {
                    history[id, default: [:]][field, default: []].append(
                        .init(value: try FieldValue(stored: value), sourceTime: time))
                }
            }
            for try await (id, source, externalID, time, data) in try await conn.guardedQuery(
                """
                SELECT id, source_system, external_id, source_time,
                       CASE WHEN id = ANY(\(Array(stored.keys))::uuid[]) THEN NULL ELSE data::text END
                FROM \(unescaped: kind.rawValue) WHERE id = ANY(\(ids)::uuid[])
                """, logger: logger
            ).decode((UUID, String, String, Date, String?).self) {
                guard let incident = incidentOf[id] else { continue }
                var report = try stored[id]?.incidentReport ?? IncidentReport(
                    kind: kind, source: SourceSystemID(source), externalID: externalID, sourceTime: time,
                    fields: try data.map(FieldValue.storedObject) ?? [:])
                report.history = history[id] ?? [:]
                result[incident, default: []].append(report)
            }
        }
        return result
    }

    /// The value a person chose for each conflict key.
    func conflictResolutions() async throws -> [String: FieldValue] {
        var result: [String: FieldValue] = [:]
        for try await (key, value) in try await conn.guardedQuery(
            """
            SELECT key, value::text FROM conflict_choice
            """, logger: logger
        ).decode((String, String).self) {
            result[key] = try FieldValue(stored: value)
        }
        return result
    }
}
