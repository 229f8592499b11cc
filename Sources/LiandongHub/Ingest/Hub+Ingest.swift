import Crypto
import Foundation
import LiandongModel
import Logging
import PostgresNIO

extension Hub {
    /// Stores one batch in ONE transaction: raw payloads (identical bytes are a no-op), xref, entity
    /// versions, alternate values, links, mapping failures, audit entries and the stream cursor.
    /// A crash at any point leaves either all of it or none of it. What concerns only the batch's own
    /// source is written before the audit head is locked, so that other sources' batches run beside it
    /// until identity (`IngestTransaction.lockRecords`).
    public func ingest(_ batch: IngestBatch) async throws -> IngestSummary {
        var sources: Set<SourceSystemID> = [batch.source]
        for payload in batch.payloads {
            for record in payload.records {
                try checkKind(record.kind)
                sources.insert(record.source)
            }
        }
        let summary = try await withRecordTransaction(writing: .sources(sources)) { tx in
            var summary = IngestSummary()
            let stored = try await tx.insertPayloads(batch)
            summary.newPayloads = stored.count
            summary.duplicatePayloads = batch.payloads.count - stored.count
            let failures = tx.insertFailures(of: stored, source: batch.source, stream: batch.stream)
            let written = try await tx.write(stored.flatMap { payload, id in payload.records.map { ($0, id) } })
            let head = try await tx.lockAuditHead()
            var changes = ChangeSet(after: head)
            let (planned, decided) = try await tx.resolve(written, to: &changes)
            summary.add(planned)
            changes += try await failures.drafts()
            summary.failures = stored.reduce(0) { $0 + $1.payload.failures.count }
            try await tx.recordChanges(changes, after: head, decided: decided)
            if let cursor = batch.cursor {
                tx.pending.send(StreamStore.saveCursorQuery(source: batch.source, stream: batch.stream, cursor: cursor))
            }
            return summary
        }
        await keepStatisticsCurrent(afterWriting: summary.inserted + summary.updated + summary.older + summary.failures)
        return summary
    }

    /// Stores records again from payloads already stored (a rebuild): entities, alternates, links,
    /// incidents and audit, in one transaction, in the order given.
    public func reingest(_ records: [(record: CanonicalRecord, rawPayloadID: Int64)]) async throws -> IngestSummary {
        for (record, _) in records { try checkKind(record.kind) }
        return try await withIngestTransaction(writing: .all) { tx, head in
            var changes = ChangeSet(after: head)
            let (summary, _) = try await tx.apply(records, to: &changes)
            tx.append(changes.entries(after: head))
            return summary
        }
    }

    /// Runs `body` in one transaction with the records of `writing` locked and then the audit chain
    /// head (see `withRecordTransaction`).
    func withIngestTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation, writing: RecordWrites = .none,
        _ body: (IngestTransaction, _ head: (seq: Int64, hash: [UInt8])) async throws -> sending Result
    ) async throws -> sending Result {
        try await withRecordTransaction(writing: writing) { tx in try await body(tx, try await tx.lockAuditHead()) }
    }

    /// Runs `body` in one transaction with the records of `writing` locked; the body locks the audit
    /// head (`IngestTransaction.lockAuditHead`) before it changes anything beyond those records. Waits
    /// for the statements the body sent without waiting (`PendingStatements`) before `COMMIT`. When the
    /// body fails after one of those statements failed, that first failure is thrown: what came after
    /// it only failed because the transaction had aborted.
    func withRecordTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation, writing: RecordWrites,
        _ body: (IngestTransaction) async throws -> sending Result
    ) async throws -> sending Result {
        try await withTransaction { conn in
            let tx = IngestTransaction(conn: conn, policies: policies, kinds: kinds, logger: logger, clock: clock)
            let value: Result
            do {
                try await tx.lockRecords(writing)
                value = try await body(tx)
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

    /// Refuses a record of a kind this database has no table for.
    func checkKind(_ kind: EntityKind) throws {
        guard kinds.all.contains(kind) else {
            throw HubError(
                .invalidState,
                "entity kind '\(kind)' has no table; expected one of \(kinds.all.map(\.rawValue).joined(separator: ", ")), "
                    + "or declare it in Mappings/kinds/\(kind).yaml")
        }
    }
}

extension Hub {
    /// The SHA-256 of `bytes` as lowercase hex: raw payloads, documents sent, and what the audit chain
    /// records in place of text it must not hold.
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        Array(SHA256.hash(data: bytes)).hexString
    }
}
