import Foundation
import LiandongModel
import PostgresNIO

/// What a rebuild reads and clears. The engine maps the payloads (the hub knows no mappings).
extension Hub {
    /// A stored payload as a rebuild reads it.
    public struct StoredPayload: Sendable {
        public var id: Int64
        public var source: String
        /// The mapping it was read with; nil for payloads stored before mappings were recorded.
        public var mapping: String?
        public var body: [UInt8]
        public var declaredEncoding: String?
    }

    /// Up to `limit` stored payloads after `id`, in storage order.
    public func storedPayloads(after id: Int64, limit: Int) async throws -> [StoredPayload] {
        var result: [StoredPayload] = []
        for try await (id, source, mapping, body, declared) in try await self.rows(
            """
            SELECT id, source_system, mapping, body, declared_encoding FROM raw_payload WHERE id > \(id) ORDER BY id LIMIT \(limit)
            """, logger: logger
        ).decode((Int64, String, String?, ByteBuffer, String?).self) {
            result.append(
                StoredPayload(id: id, source: source, mapping: mapping, body: Array(buffer: body), declaredEncoding: declared))
        }
        return result
    }

    /// Clears everything derived from the raw payloads (entities, identity, alternates, links,
    /// incidents, candidates, conflicts) in one transaction, and audits the start of a rebuild. Raw
    /// payloads, mapping failures, admin decisions, cursors and the audit trail stay.
    public func clearDerivedState(reason: String) async throws {
        try await withIngestTransaction(writing: .all) { tx, head in
            let tables = ["incident_alternate", "link_candidate", "conflict", "incident_report", "incident", "alternate_value", "entity_link"]
                + kinds.all.map(\.rawValue) + ["xref"]
            for table in tables {
                try await tx.conn.guardedQuery(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: logger)
            }
            tx.append(
                [AuditDraft(action: .rebuild, entityKind: "hub", entityID: "hub", content: ["reason": .string(reason)])], after: head)
        }
    }
}
