import Foundation
import LiandongModel
import PostgresNIO

extension IngestTransaction {
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
            FROM UNNEST(\(rows.map(\.payloadID))::bigint[], \(rows.map(\.failed.recordIndex))::int[],
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
                ids["\(row.payloadID)/\(row.failed.recordIndex)"].map { id in
                    AuditDraft(
                        action: .quarantine, entityKind: "mapping_failure", entityID: "\(id)",
                        content: [
                            "source": .string(source.rawValue), "mapping": .string(row.mapping.name),
                            "mapping_version": .number(Double(row.mapping.version)), "record_index": .number(Double(row.failed.recordIndex)),
                            "external_id": row.failed.externalID.map(FieldValue.string) ?? .null,
                            "rules": .array(row.failed.failures.map { .string("\($0.path): \($0.rule)") }),
                        ])
                }
            }
        }
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
