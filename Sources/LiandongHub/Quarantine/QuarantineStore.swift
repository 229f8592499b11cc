import Foundation
import LiandongModel
import PostgresNIO

/// Records that failed to map or store (`hub.quarantine`): grouped, shown, ignored and replayed.
public struct QuarantineStore: HubStore {
    let hub: Hub
}

extension QuarantineStore {
    /// One quarantined record (or document) with its payload.
    public struct FailureView: Sendable {
        public var id: Int64
        public var status: String
        public var source: String
        public var stream: String
        public var mapping: MappingRef
        public var recordIndex: Int
        public var externalID: String?
        public var failures: [MappingFailure]
        public var decisionReason: String?
        /// Who replayed or ignored it, and when.
        public var decidedBy: String?
        public var decidedAt: Date?
        public var jobID: Int64?
        public var firstSeen: Date
        public var lastSeen: Date
        public var seenCount: Int
        public var rawPayloadID: Int64
        public var payloadName: String
        public var contentType: String?
        public var declaredEncoding: String?
        /// The charset the bytes were decoded with when they arrived, if they could be.
        public var detectedEncoding: String?
        /// The bytes exactly as received.
        public var body: [UInt8]
    }

    /// Loads one failure.
    public func failure(_ id: Int64) async throws -> FailureView {
        let rows = try await self.rows(
            """
            SELECT m.id, m.status, m.source_system, m.stream, m.mapping, m.mapping_version, m.record_index, m.external_id,
                   m.failures::text, m.decision_reason, m.decided_by, m.decided_at, m.job_id, m.first_seen, m.last_seen,
                   m.seen_count, p.id, p.name, p.content_type, p.declared_encoding,
                   p.detected_encoding, p.body
            FROM mapping_failure m JOIN raw_payload p ON p.id = m.raw_payload_id WHERE m.id = \(id)
            """, logger: logger)
        for try await (
            id, status, source, stream, mapping, version, index, externalID,
            failuresJSON, reason, decidedBy, decidedAt, jobID, firstSeen, lastSeen, seen, payloadID, name, contentType, declared, detected, body
        ) in rows.decode(
            (Int64, String, String, String, String, Int, Int, String?,
             String, String?, String?, Date?, Int64?, Date, Date, Int, Int64, String, String?, String?, String?, ByteBuffer).self)
        {
            let failures = (try? JSONDecoder().decode([MappingFailure].self, from: Data(failuresJSON.utf8))) ?? []
            return FailureView(
                id: id, status: status, source: source, stream: stream, mapping: MappingRef(name: mapping, version: version),
                recordIndex: index, externalID: externalID, failures: failures, decisionReason: reason, decidedBy: decidedBy,
                decidedAt: decidedAt, jobID: jobID, firstSeen: firstSeen, lastSeen: lastSeen, seenCount: seen,
                rawPayloadID: payloadID, payloadName: name, contentType: contentType, declaredEncoding: declared, detectedEncoding: detected,
                body: Array(buffer: body))
        }
        throw HubError(.notFound, "no mapping failure \(id): 'liandong errors list' shows the open ones")
    }

    /// Ids of every open failure, oldest first.
    public func openIDs(source: String? = nil) async throws -> [Int64] {
        var ids: [Int64] = []
        for try await id in try await self.rows(
            """
            SELECT id FROM mapping_failure WHERE status = 'open' AND (\(source ?? "")::text = '' OR source_system = \(source ?? ""))
            ORDER BY id
            """, logger: logger
        ).decode(Int64.self) {
            ids.append(id)
        }
        return ids
    }

    /// Marks a failure ignored, with who and why, audited (`job`: the bulk job it is part of).
    public func ignore(_ id: Int64, by actor: ActingUser, job: Int64? = nil) async throws {
        let view = try await failure(id)
        guard view.status == "open" else {
            throw HubError(.invalidState, "mapping failure \(id) is \(view.status), not open")
        }
        try await hub.withIngestTransaction { tx, head in
            // Under the row lock: a replay and an ignore of one failure cannot both apply.
            let rows = try await tx.conn.guardedQuery(
                """
                UPDATE mapping_failure SET status = 'ignored', decision_reason = \(actor.reason), decided_by = \(actor.name),
                    decided_at = now(), job_id = \(job) WHERE id = \(id) AND status = 'open' RETURNING 1
                """, logger: logger)
            var changed = false
            for try await _ in rows { changed = true }
            guard changed else { throw HubError(.invalidState, "mapping failure \(id) is no longer open") }
            tx.append(
                [
                    AuditDraft(
                        action: .ignore, entityKind: "mapping_failure", entityID: "\(id)",
                        content: ["mapping": .string(view.mapping.description)]
                    ).signed(by: actor)
                ], after: head)
        }
    }

    /// What a replay would do or did.
    public struct ReplayOutcome: Sendable, Codable {
        public var failureID: Int64
        /// `replayed` when every record now maps, `still failing` otherwise.
        public var result: String
        public var summary: IngestSummary
        /// Planned changes: action, entity (external id) and the fields that change.
        public var changes: [String]
        public var failures: [MappingFailure]
    }

    /// Re-ingests the records a failure's payload now maps to. With `dryRun`, only reports what would
    /// change. `stillFailing` holds the failures the current mapping still finds, if any.
    public func replay(
        _ id: Int64, records: [CanonicalRecord], stillFailing: [MappingFailure], mapping: MappingRef, dryRun: Bool,
        by actor: ActingUser, job: Int64? = nil
    ) async throws -> ReplayOutcome {
        let view = try await failure(id)
        for record in records { try hub.checkKind(record.kind) }
        return try await hub.withIngestTransaction(writing: .sources(Set(records.map(\.source)))) { tx, head in
            let conn = tx.conn
            // Checked under the row lock: two replays of one failure cannot both apply it.
            let rows = try await conn.guardedQuery("SELECT status FROM mapping_failure WHERE id = \(id) FOR UPDATE", logger: logger)
            for try await status in rows.decode(String.self) where status != "open" {
                throw HubError(.invalidState, "mapping failure \(id) is \(status); only open failures are replayed")
            }
            var plan = IngestPlan(states: try await tx.loadStates(for: records), reports: tx.kinds.reports)
            for record in records { plan.apply(record, rawPayloadID: view.rawPayloadID) }
            let changes = plan.changes.drafts.map { draft in
                let external = draft.content["external_id"]?.stringValue ?? draft.entityID
                let fields = draft.content["after"]?.objectValue?.keys.sorted().joined(separator: ", ") ?? ""
                return "\(draft.action) \(draft.entityKind) \(external): \(fields)"
            }
            var outcome = ReplayOutcome(
                failureID: id, result: stillFailing.isEmpty ? "replayed" : "still failing", summary: plan.summary,
                changes: changes, failures: stillFailing)
            if dryRun { return outcome }
            tx.write(plan)
            let links = try await tx.insertLinks(plan.links)
            var drafts = plan.changes + links
            outcome.summary.linked = links.count
            let failuresJSON = FieldValue.array(stillFailing.map(\.fieldValue)).canonicalJSON
            if stillFailing.isEmpty {
                try await conn.guardedQuery(
                    """
                    UPDATE mapping_failure SET status = 'replayed', mapping_version = \(mapping.version), decision_reason = \(actor.reason),
                        decided_by = \(actor.name), decided_at = now(), job_id = \(job) WHERE id = \(id)
                    """, logger: logger)
            } else {
                try await conn.guardedQuery(
                    """
                    UPDATE mapping_failure SET failures = \(failuresJSON)::jsonb, mapping_version = \(mapping.version),
                        last_seen = now(), seen_count = seen_count + 1 WHERE id = \(id)
                    """, logger: logger)
            }
            drafts.append(
                AuditDraft(
                    action: stillFailing.isEmpty ? .replay : .replayFailed, entityKind: "mapping_failure", entityID: "\(id)",
                    content: [
                        "mapping": .string(mapping.name), "mapping_version": .number(Double(mapping.version)),
                        "inserted": .number(Double(plan.summary.inserted)), "updated": .number(Double(plan.summary.updated)),
                        "records": .array(records.map { .string($0.externalID) }),
                    ]
                ).signed(by: actor))
            try await tx.recordChanges(drafts, after: head)
            return outcome
        }
    }
}
