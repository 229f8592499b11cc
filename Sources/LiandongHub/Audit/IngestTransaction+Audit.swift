import Foundation
import PostgresNIO

extension IngestTransaction {
    /// Numbers and chains `drafts` after `head`, and appends them.
    func append(_ drafts: [AuditDraft], after head: (seq: Int64, hash: [UInt8])) {
        append(AuditChain.chain(drafts, after: head, at: Date()))
    }

    /// Sends `entries` to the audit table and moves the head to the last.
    func append(_ entries: [AuditEntry]) {
        guard let last = entries.last else { return }
        pending.send(
            """
            INSERT INTO audit_entry (seq, at, action, entity_kind, entity_id, body, prev_hash, hash)
            SELECT t.seq, t.at, t.a, t.k, t.e, t.b, t.p, t.h
            FROM UNNEST(\(entries.map(\.seq))::bigint[], \(entries.map(\.at))::timestamptz[], \(entries.map(\.action.rawValue))::text[],
                        \(entries.map(\.entityKind))::text[], \(entries.map(\.entityID))::text[], \(entries.map(\.body))::text[],
                        \(entries.map { ByteBuffer(bytes: $0.previousHash) })::bytea[],
                        \(entries.map { ByteBuffer(bytes: $0.hash) })::bytea[]) AS t(seq, at, a, k, e, b, p, h)
            """)
        pending.send("UPDATE audit_head SET seq = \(last.seq), hash = \(ByteBuffer(bytes: last.hash)) WHERE id = 1")
    }
}
