import Crypto
import Foundation
import LiandongModel
import Logging
import PostgresNIO

extension Hub {
    /// Stores one batch in ONE transaction: raw payloads (identical bytes are a no-op), xref, entity
    /// versions, alternate values, links, mapping failures, audit entries and the stream cursor.
    /// A crash at any point leaves either all of it or none of it.
    public func ingest(_ batch: IngestBatch) async throws -> IngestSummary {
        for payload in batch.payloads {
            for record in payload.records { try Self.checkKind(record.kind) }
        }
        let summary = try await withIngestTransaction { tx, head in
            let trail = AuditTrail(after: head)
            var summary = IngestSummary()
            let stored = try await tx.insertPayloads(batch)
            summary.newPayloads = stored.count
            summary.duplicatePayloads = batch.payloads.count - stored.count
            let failures = tx.insertFailures(of: stored, source: batch.source, stream: batch.stream)
            let (planned, decided) = try await tx.apply(
                stored.flatMap { payload, id in payload.records.map { ($0, id) } }, policy: policy, trail: trail)
            summary.add(planned)
            trail.add(try await failures.drafts())
            summary.failures = stored.reduce(0) { $0 + $1.payload.failures.count }
            try await tx.commit(trail, sharing: sharing, routing: routing, decided: decided)
            if let cursor = batch.cursor {
                tx.pending.send(Self.saveCursorQuery(source: batch.source, stream: batch.stream, cursor: cursor))
            }
            return summary
        }
        await keepStatisticsCurrent(afterWriting: summary.inserted + summary.updated + summary.older + summary.failures)
        return summary
    }

    /// Stores records again from payloads already stored (a rebuild): entities, alternates, links,
    /// incidents and audit, in one transaction, in the order given.
    public func reingest(_ records: [(record: CanonicalRecord, rawPayloadID: Int64)]) async throws -> IngestSummary {
        for (record, _) in records { try Self.checkKind(record.kind) }
        return try await withIngestTransaction { tx, head in
            let trail = AuditTrail(after: head)
            let (summary, _) = try await tx.apply(records, policy: policy, trail: trail)
            tx.append(trail)
            return summary
        }
    }

    /// Runs `body` in one transaction with the audit chain head locked, and waits for the statements
    /// it sent without waiting (`PendingStatements`) before `COMMIT`. When the body fails after one of
    /// those statements failed, that first failure is thrown: what came after it only failed because
    /// the transaction had aborted.
    func withIngestTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (IngestTransaction, _ head: (seq: Int64, hash: [UInt8])) async throws -> sending Result
    ) async throws -> sending Result {
        try await withTransaction { conn in
            let tx = IngestTransaction(conn: conn, logger: logger, clock: clock)
            let value: Result
            do {
                value = try await body(tx, try await tx.lockAuditHead())
            } catch {
                try await tx.pending.settle()
                throw error
            }
            try await tx.pending.settle()
            return value
        }
    }

    /// Whether every one of `bodies` is stored already (identical bytes): such a page needs no mapping,
    /// since ingesting it would change nothing.
    public func holdsPayloads(_ bodies: [[UInt8]]) async throws -> Bool {
        let hashes = Set(bodies.map { Data(SHA256.hash(data: $0)) })
        let rows = try await self.rows(
            "SELECT count(*) FROM raw_payload WHERE sha256 = ANY(\(hashes.map { ByteBuffer(bytes: $0) })::bytea[])", logger: logger)
        for try await count in rows.decode(Int.self) { return count == hashes.count }
        return false
    }

    /// Moves a stream's cursor on without ingesting (past pages stored before).
    public func saveCursor(source: SourceSystemID, stream: String, cursor: String) async throws {
        try await self.rows(Self.saveCursorQuery(source: source, stream: stream, cursor: cursor), logger: logger)
    }

    static func saveCursorQuery(source: SourceSystemID, stream: String, cursor: String) -> PostgresQuery {
        """
        INSERT INTO stream_cursor (source_system, stream, cursor) VALUES (\(source.rawValue), \(stream), \(cursor))
        ON CONFLICT (source_system, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()
        """
    }

    /// The cursor stored for a stream, if any.
    public func cursor(source: SourceSystemID, stream: String) async throws -> String? {
        let rows = try await self.rows(
            "SELECT cursor FROM stream_cursor WHERE source_system = \(source.rawValue) AND stream = \(stream)",
            logger: logger)
        for try await cursor in rows.decode(String.self) { return cursor }
        return nil
    }

    static func checkKind(_ kind: EntityKind) throws {
        guard EntityKind.all.contains(kind) else {
            throw HubError(
                .invalidState,
                "entity kind '\(kind)' has no table; expected one of \(EntityKind.all.map(\.rawValue).joined(separator: ", "))")
        }
    }
}

/// The statements of one ingest transaction; each is one set-based statement for the whole batch.
struct IngestTransaction {
    let conn: PostgresConnection
    let logger: Logger
    /// Where identity time is moved from `write` to `resolve`, when measured.
    var clock: StageClock?
    /// The writes sent without waiting for their answers; settled before `COMMIT`.
    let pending: PendingStatements

    init(conn: PostgresConnection, logger: Logger, clock: StageClock? = nil) {
        self.conn = conn
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

    /// Plans and writes records (entities, alternates, links), resolves their incidents, adds the
    /// audit entries to `trail`, and returns the counts and the incidents written.
    func apply(
        _ records: [(record: CanonicalRecord, rawPayloadID: Int64)], policy: IncidentPolicy, trail: AuditTrail
    ) async throws -> (IngestSummary, DecidedIncidents) {
        let planning = ContinuousClock.now
        var plan = IngestPlan(states: try await loadStates(for: records.map(\.record)))
        for (record, id) in records { plan.apply(record, rawPayloadID: id) }
        var resolving = ContinuousClock.now - planning
        write(plan)
        trail.add(plan.audits)
        let links = try await insertLinks(plan.links)
        trail.add(links)
        var summary = plan.summary
        summary.linked = links.count
        let incidents = ContinuousClock.now
        let resolver = IncidentResolver(pending: pending, policy: policy, stored: plan.storedReports)
        trail.add(try await resolver.resolve(plan.touchedReports))
        resolving += ContinuousClock.now - incidents
        clock?.move(resolving, from: .write, to: .resolve)
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
                let fields = (try? FieldValue(jsonText: data))?.objectValue ?? [:]
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
                    action: "link", entityKind: kind, entityID: from.uuidString.lowercased(),
                    content: ["link_type": .string(type), "target_source": .string(source), "target_external_id": .string(target)]))
        }
        return drafts
    }

    /// Quarantines the failed records of stored payloads, in one statement sent now; their audit
    /// drafts, which name the rows it inserts, come from the result's `drafts()`.
    func insertFailures(of stored: [(payload: ReceivedPayload, id: Int64)], source: SourceSystemID, stream: String) -> SentFailures {
        let rows = stored.flatMap { payload, id in payload.failures.map { (failed: $0, payloadID: id, mapping: payload.mapping) } }
        guard !rows.isEmpty else { return SentFailures(rows: [], source: source, inserted: nil, pending: pending) }
        let failuresJSON = rows.map { FieldValue.array($0.failed.failures.map(\.fieldValue)).canonicalJSON }
        let inserted = pending.send(
            """
            INSERT INTO mapping_failure (raw_payload_id, record_index, source_system, stream, external_id, mapping, mapping_version, failures)
            SELECT t.p, t.i, \(source.rawValue), \(stream), NULLIF(t.ext, ''), t.m, t.mv, t.f::jsonb
            FROM UNNEST(\(rows.map(\.payloadID))::bigint[], \(rows.map(\.failed.index))::int[],
                        \(rows.map { $0.failed.externalID ?? "" })::text[], \(rows.map(\.mapping.name))::text[],
                        \(rows.map(\.mapping.version))::int[], \(failuresJSON)::text[]) AS t(p, i, ext, m, mv, f)
            ON CONFLICT (raw_payload_id, record_index) DO UPDATE SET mapping_version = EXCLUDED.mapping_version,
                failures = EXCLUDED.failures, last_seen = now(), seen_count = mapping_failure.seen_count + 1, status = 'open'
            RETURNING id, raw_payload_id, record_index
            """)
        return SentFailures(rows: rows, source: source, inserted: inserted, pending: pending)
    }

    /// The quarantine statement of `insertFailures`, sent, with what its audit drafts need.
    struct SentFailures {
        var rows: [(failed: FailedRecord, payloadID: Int64, mapping: MappingRef)]
        var source: SourceSystemID
        var inserted: EventLoopFuture<PostgresQueryResult>?
        var pending: PendingStatements

        /// One `quarantine` draft per failed record, in input order (so that audit entries are
        /// numbered the same way on every run), once the statement has run.
        func drafts() async throws -> [AuditDraft] {
            guard let inserted else { return [] }
            var ids: [String: Int64] = [:]
            for row in try await pending.rows(of: inserted) {
                let (id, payloadID, index) = try row.decode((Int64, Int64, Int).self)
                ids["\(payloadID)/\(index)"] = id
            }
            return rows.compactMap { row in
                ids["\(row.payloadID)/\(row.failed.index)"].map { id in
                    AuditDraft(
                        action: "quarantine", entityKind: "mapping_failure", entityID: "\(id)",
                        content: [
                            "source": .string(source.rawValue), "mapping": .string(row.mapping.name),
                            "mapping_version": .number(Double(row.mapping.version)), "record_index": .number(Double(row.failed.index)),
                            "external_id": row.failed.externalID.map(FieldValue.string) ?? .null,
                            "rules": .array(row.failed.failures.map { .string("\($0.path): \($0.rule)") }),
                        ])
                }
            }
        }
    }

    /// Sends the entries of `trail` to the audit table and moves the head.
    func append(_ trail: AuditTrail) {
        guard let last = trail.entries.last else { return }
        let entries = trail.entries
        pending.send(
            """
            INSERT INTO audit_entry (seq, at, action, entity_kind, entity_id, body, prev_hash, hash)
            SELECT t.seq, t.at, t.a, t.k, t.e, t.b, t.p, t.h
            FROM UNNEST(\(entries.map(\.seq))::bigint[], \(entries.map(\.at))::timestamptz[], \(entries.map(\.action))::text[],
                        \(entries.map(\.entityKind))::text[], \(entries.map(\.entityID))::text[], \(entries.map(\.body))::text[],
                        \(entries.map { ByteBuffer(bytes: $0.previousHash) })::bytea[],
                        \(entries.map { ByteBuffer(bytes: $0.hash) })::bytea[]) AS t(seq, at, a, k, e, b, p, h)
            """)
        pending.send("UPDATE audit_head SET seq = \(last.seq), hash = \(ByteBuffer(bytes: last.hash)) WHERE id = 1")
    }

    /// Numbers, chains and appends `drafts` after `head`.
    func append(_ drafts: [AuditDraft], after head: (seq: Int64, hash: [UInt8])) {
        append(AuditTrail(after: head, drafts))
    }
}

extension Hub {
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        Array(SHA256.hash(data: bytes)).hexString
    }
}

extension MappingFailure {
    /// The failure as stored in `mapping_failure.failures`.
    var fieldValue: FieldValue {
        .object([
            "path": .string(path), "rule": .string(rule.rawValue), "value": value.map(FieldValue.string) ?? .null,
            "message": .string(message),
        ])
    }
}

extension Hub {
    /// The counts of one sync of one stream, stored in `sync_run`.
    public struct SyncRunRecord: Sendable, Codable {
        public var source: String
        public var stream: String
        public var startedAt: Date
        public var finishedAt: Date
        public var pulled: Int
        public var batches: Int
        public var summary: IngestSummary
        public var error: String?

        public init(
            source: String, stream: String, startedAt: Date, finishedAt: Date, pulled: Int, batches: Int,
            summary: IngestSummary, error: String?
        ) {
            self.source = source
            self.stream = stream
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.pulled = pulled
            self.batches = batches
            self.summary = summary
            self.error = error
        }
    }

    /// Stores one sync run.
    public func record(_ run: SyncRunRecord) async throws {
        let s = run.summary
        try await self.rows(
            """
            INSERT INTO sync_run (source_system, stream, started_at, finished_at, pulled, unchanged, inserted, updated, older,
                                  linked, failures, batches, error)
            VALUES (\(run.source), \(run.stream), \(run.startedAt), \(run.finishedAt), \(run.pulled), \(s.unchanged), \(s.inserted),
                    \(s.updated), \(s.older), \(s.linked), \(s.failures), \(run.batches), \(run.error))
            """, logger: logger)
    }
}
