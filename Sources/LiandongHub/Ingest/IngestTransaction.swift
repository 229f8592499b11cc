import Foundation
import LiandongModel
import Logging
import PostgresNIO

/// The statements of one ingest transaction; each is one set-based statement for the whole batch.
struct IngestTransaction {
    let conn: PostgresConnection
    let logger: Logger
    /// The rules what this transaction decides, delivers and transfers follow.
    let policies: HubPolicies
    /// The record kinds the database has tables for.
    let kinds: RecordKinds
    /// Where identity time is moved from `write` to `resolve`, when measured.
    var clock: StageClock?
    /// The writes sent without waiting for their answers; settled before `COMMIT`.
    let pending: PendingStatements

    init(conn: PostgresConnection, policies: HubPolicies, kinds: RecordKinds, logger: Logger, clock: StageClock? = nil) {
        self.conn = conn
        self.policies = policies
        self.kinds = kinds
        self.logger = logger
        self.clock = clock
        self.pending = PendingStatements(conn: conn, logger: logger)
    }

    /// Locks the audit chain head for the rest of the transaction.
    func lockAuditHead() async throws -> (seq: Int64, hash: [UInt8]) {
        let rows = try await conn.guardedQuery("SELECT seq, encode(hash, 'hex') FROM audit_head WHERE id = 1 FOR UPDATE", logger: logger)
        for try await (seq, hash) in rows.decode((Int64, String).self) { return (seq, [UInt8](hex: hash) ?? []) }
        throw HubError(.migration, "audit_head row is missing: run 'liandong migrate'")
    }

    /// Locks, for the rest of the transaction, the records it is about to write, before the audit head
    /// (always in that order, so two transactions never wait for each other in a circle). A source's
    /// records are its own: no other source's records share their entities, so pages of two sources plan
    /// and write them side by side and queue only at the audit head, where identity and everything that
    /// reads across sources begin. Two streams of one source take turns here.
    func lockRecords(_ writes: RecordWrites) async throws {
        switch writes {
        case .none:
            return
        case .sources(let sources):
            try await conn.guardedQuery("SELECT pg_advisory_xact_lock_shared(\(Self.recordLockClass), 0)", logger: logger)
            try await conn.guardedQuery(
                """
                SELECT pg_advisory_xact_lock(\(Self.sourceLockClass), hashtext(s))
                FROM UNNEST(\(sources.map(\.rawValue).sorted())::text[]) AS s ORDER BY s
                """, logger: logger)
        case .all:
            try await conn.guardedQuery("SELECT pg_advisory_xact_lock(\(Self.recordLockClass), 0)", logger: logger)
        }
    }

    /// The advisory lock classes of `lockRecords`: every source's records (shared by each writer of some
    /// sources, exclusive for a rebuild), and one source's (by the hash of its name).
    static let recordLockClass: Int32 = 0x4C44_0001
    static let sourceLockClass: Int32 = 0x4C44_0002

    /// Records planned and written to their own tables (entities, alternates, links) under their
    /// sources' lock, with what identity needs next; `resolving` is the time planning took.
    struct WrittenRecords {
        var plan: IngestPlan
        var links: [AuditDraft]
        var resolving: Duration
    }

    /// Plans and writes records (entities, alternates, links), resolves their incidents, stores the
    /// warnings readings raise, adds the changes made to `changes`, and returns the counts and the
    /// incidents written. The audit head is held already.
    func apply(
        _ records: [(record: CanonicalRecord, rawPayloadID: Int64)], to changes: inout ChangeSet
    ) async throws -> (IngestSummary, DecidedIncidents) {
        try await resolve(try await write(records), to: &changes)
    }

    /// The first half of `apply`, which needs only the records' sources locked: loads their states,
    /// plans them and sends their writes, then writes the audit bodies of their changes while PostgreSQL
    /// runs those (`ChangeSet.prepareBodies`).
    func write(_ records: [(record: CanonicalRecord, rawPayloadID: Int64)]) async throws -> WrittenRecords {
        let planning = ContinuousClock.now
        var plan = IngestPlan(
            states: try await loadStates(for: records.map(\.record)), reports: kinds.reports, readings: policies.thresholds.readingKinds)
        let encoded = records.map(\.record).concurrentMap(IngestPlan.Encoded.init)
        for ((record, id), encoded) in zip(records, encoded) { plan.apply(record, rawPayloadID: id, encoded: encoded) }
        write(plan)
        plan.changes.prepareBodies()
        let resolving = ContinuousClock.now - planning
        return WrittenRecords(plan: plan, links: try await insertLinks(plan.links), resolving: resolving)
    }

    /// The second half of `apply`, under the audit head: adds the written records' changes to
    /// `changes`, resolves their incidents and stores the warnings their readings raise.
    func resolve(_ written: WrittenRecords, to changes: inout ChangeSet) async throws -> (IngestSummary, DecidedIncidents) {
        let plan = written.plan
        changes += plan.changes
        changes += written.links
        var summary = plan.summary
        summary.linked = written.links.count
        let incidents = ContinuousClock.now
        let resolver = IncidentResolver(pending: pending, policy: policies.incident, reports: kinds.reports, stored: plan.storedReports)
        changes += try await resolver.resolve(plan.touchedReports)
        clock?.move(written.resolving + (ContinuousClock.now - incidents), from: .write, to: .resolve)
        // Warnings the readings raise are stored in the same transaction, as records of their own.
        let warnings = try await thresholdWarnings(for: plan.currentReadings)
        if !warnings.isEmpty {
            let (raised, _) = try await apply(warnings, to: &changes)
            summary.add(raised)
        }
        return (summary, resolver.decided)
    }

    /// Inserts payloads whose bytes are new; returns those with their ids.
    func insertPayloads(_ batch: IngestBatch) async throws -> [(payload: ReceivedPayload, id: Int64)] {
        var unique: [String: ReceivedPayload] = [:]
        var order: [String] = []
        for payload in batch.payloads {
            let sha = Hub.sha256Hex(payload.body)
            if unique[sha] == nil { order.append(sha) }
            unique[sha] = unique[sha] ?? payload
        }
        guard !order.isEmpty else { return [] }
        let payloads = order.map { unique[$0]! }
        let rows = try await conn.guardedQuery(
            """
            INSERT INTO raw_payload (sha256, source_system, stream, name, content_type, declared_encoding, detected_encoding, body, mapping)
            SELECT decode(t.sha, 'hex'), \(batch.source.rawValue), \(batch.stream), t.name, NULLIF(t.ct, ''), NULLIF(t.de, ''),
                   NULLIF(t.dt, ''), t.body, t.m
            FROM UNNEST(\(order)::text[], \(payloads.map(\.name))::text[], \(payloads.map { $0.contentType ?? "" })::text[],
                        \(payloads.map { $0.declaredEncoding ?? "" })::text[], \(payloads.map { $0.detectedEncoding ?? "" })::text[],
                        \(payloads.map { ByteBuffer(bytes: $0.body) })::bytea[], \(payloads.map(\.mapping.name))::text[])
                 AS t(sha, name, ct, de, dt, body, m)
            ON CONFLICT (sha256) DO NOTHING
            RETURNING id, encode(sha256, 'hex')
            """, logger: logger)
        var ids: [String: Int64] = [:]
        for try await (id, sha) in rows.decode((Int64, String).self) { ids[sha] = id }
        return order.compactMap { sha in ids[sha].map { (unique[sha]!, $0) } }
    }

    /// Loads the current state of every entity the records name.
    func loadStates(for records: [CanonicalRecord]) async throws -> [String: EntityState] {
        var states: [String: EntityState] = [:]
        let groups = Dictionary(grouping: records, by: { "\($0.kind.rawValue)\u{1F}\($0.source.rawValue)" })
        for group in groups.values {
            let kind = group[0].kind
            let source = group[0].source
            let ids = Array(Set(group.map(\.externalID)))
            let rows = try await conn.guardedQuery(
                """
                SELECT x.external_id, e.id, e.version, e.source_time, encode(e.content_hash, 'hex'), e.data::text,
                       e.mapping, e.mapping_version
                FROM xref x JOIN \(unescaped: kind.rawValue) e ON e.id = x.entity_id
                WHERE x.source_system = \(source.rawValue) AND x.external_id = ANY(\(ids)::text[])
                """, logger: logger)
            for try await (externalID, id, version, time, hash, data, mapping, mappingVersion) in rows.decode(
                (String, UUID, Int, Date, String, String, String, Int).self)
            {
                let fields = try FieldValue.storedObject(data)
                states[IngestPlan.key(source, externalID)] = EntityState(
                    id: id, version: version, sourceTime: time, contentHash: hash, fields: fields,
                    mapping: MappingRef(name: mapping, version: mappingVersion))
            }
        }
        return states
    }

    /// Sends the planned xrefs, entity versions and alternate values.
    func write(_ plan: IngestPlan) {
        if !plan.newXrefs.isEmpty {
            pending.send(
                """
                INSERT INTO xref (source_system, external_id, entity_kind, entity_id)
                SELECT * FROM UNNEST(\(plan.newXrefs.map(\.source.rawValue))::text[], \(plan.newXrefs.map(\.externalID))::text[],
                                     \(plan.newXrefs.map(\.kind.rawValue))::text[], \(plan.newXrefs.map(\.id))::uuid[])
                """)
        }
        for (kind, writes) in Dictionary(grouping: plan.writes.values, by: \.kind) {
            pending.send(
                """
                INSERT INTO \(unescaped: kind.rawValue)
                    (id, source_system, external_id, version, source_time, content_hash, data, mapping, mapping_version, raw_payload_id)
                SELECT t.id, t.src, t.ext, t.ver, t.st, decode(t.h, 'hex'), t.d::jsonb, t.m, t.mv, t.rp
                FROM UNNEST(\(writes.map(\.id))::uuid[], \(writes.map(\.source.rawValue))::text[], \(writes.map(\.externalID))::text[],
                            \(writes.map(\.version))::int[], \(writes.map(\.sourceTime))::timestamptz[], \(writes.map(\.contentHash))::text[],
                            \(writes.map(\.fieldsJSON))::text[], \(writes.map(\.mapping.name))::text[],
                            \(writes.map(\.mapping.version))::int[], \(writes.map(\.rawPayloadID))::bigint[])
                     AS t(id, src, ext, ver, st, h, d, m, mv, rp)
                ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, source_time = EXCLUDED.source_time,
                    content_hash = EXCLUDED.content_hash, data = EXCLUDED.data, mapping = EXCLUDED.mapping,
                    mapping_version = EXCLUDED.mapping_version, raw_payload_id = EXCLUDED.raw_payload_id, updated_at = now()
                """)
        }
        let alternates = plan.alternates
        if !alternates.isEmpty {
            pending.send(
                """
                INSERT INTO alternate_value (entity_kind, entity_id, field, value, source_system, source_time, mapping, reason)
                SELECT t.k, t.id, t.f, t.v::jsonb, t.s, t.st, t.m, t.r
                FROM UNNEST(\(alternates.map(\.kind.rawValue))::text[], \(alternates.map(\.entityID))::uuid[],
                            \(alternates.map(\.field))::text[], \(alternates.map(\.value.canonicalJSON))::text[],
                            \(alternates.map(\.source.rawValue))::text[], \(alternates.map(\.sourceTime))::timestamptz[],
                            \(alternates.map(\.mapping.description))::text[], \(alternates.map(\.reason))::text[])
                     AS t(k, id, f, v, s, st, m, r)
                """)
        }
    }

    /// Inserts links not stored before and returns an audit draft for each new one.
    func insertLinks(_ links: [IngestPlan.LinkWrite]) async throws -> [AuditDraft] {
        guard !links.isEmpty else { return [] }
        let rows = try await conn.guardedQuery(
            """
            INSERT INTO entity_link (from_kind, from_entity, link_type, target_source, target_external_id)
            SELECT * FROM UNNEST(\(links.map(\.kind.rawValue))::text[], \(links.map(\.fromEntity))::uuid[],
                                 \(links.map(\.link.type))::text[], \(links.map(\.link.targetSource.rawValue))::text[],
                                 \(links.map(\.link.targetExternalID))::text[])
            ON CONFLICT DO NOTHING
            RETURNING from_kind, from_entity, link_type, target_source, target_external_id
            """, logger: logger)
        var drafts: [AuditDraft] = []
        for try await (kind, from, type, source, target) in rows.decode((String, UUID, String, String, String).self) {
            drafts.append(
                AuditDraft(
                    action: .link, entityKind: kind, entityID: from.lowercasedText,
                    content: ["link_type": .string(type), "target_source": .string(source), "target_external_id": .string(target)]))
        }
        return drafts
    }
}

/// Whose records a transaction writes, locked before the audit head (`IngestTransaction.lockRecords`).
enum RecordWrites {
    /// None: the transaction changes only what the audit head guards (incidents, deliveries, decisions).
    case none
    /// The records of these sources.
    case sources(Set<SourceSystemID>)
    /// Any record (a rebuild clearing and writing them all).
    case all
}
