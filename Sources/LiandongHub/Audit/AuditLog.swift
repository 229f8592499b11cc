import Foundation
import LiandongModel
import PostgresNIO

/// The hash-chained audit log (`hub.audit`): verifying the chain and an entity's trail.
public struct AuditLog: HubStore {
    let hub: Hub
}

extension AuditLog {
    /// The outcome of recomputing the audit chain.
    public struct AuditVerification: Sendable, Codable {
        /// Entries checked.
        public var checked: Int64
        /// The first entry whose hash, link or columns do not match, if any.
        public var firstBad: Int64?
        /// What is wrong with it.
        public var problem: String?
        /// The head's sequence number and hash.
        public var headSeq: Int64
        public var headHash: String
    }

    /// Recomputes the whole chain in order and names the first entry that fails.
    public func verify() async throws -> AuditVerification {
        var previous = AuditChain.genesis
        var expectedSeq: Int64 = 0
        var result = AuditVerification(checked: 0, firstBad: nil, problem: nil, headSeq: 0, headHash: "")
        // The head first, then the entries up to it: batches committing meanwhile (a running `serve`)
        // move the head past what was read, and must not look like a broken chain.
        for try await (seq, hash) in try await self.rows(
            "SELECT seq, encode(hash, 'hex') FROM audit_head WHERE id = 1", logger: logger
        ).decode((Int64, String).self) {
            result.headSeq = seq
            result.headHash = hash
        }
        let rows = try await self.rows(
            """
            SELECT seq, at, action, entity_kind, entity_id, body, encode(prev_hash, 'hex'), encode(hash, 'hex')
            FROM audit_entry WHERE seq <= \(result.headSeq) ORDER BY seq
            """, logger: logger)
        for try await (seq, at, action, kind, entityID, body, prevHex, hashHex) in rows.decode(
            (Int64, Date, String, String, String, String, String, String).self)
        {
            expectedSeq += 1
            result.checked += 1
            guard result.firstBad == nil else { continue }
            let recomputed = AuditChain.hash(previous: previous, body: body)
            var problem: String?
            if seq != expectedSeq {
                problem = "sequence gap: expected \(expectedSeq)"
            } else if prevHex != previous.hexString {
                problem = "prev_hash does not match the previous entry's hash"
            } else if recomputed.hexString != hashHex {
                problem = "hash does not match SHA-256(prev_hash || body): the body was changed"
            } else if let content = try? FieldValue.storedObject(body) {
                if content["action"]?.stringValue != action || content["entity_id"]?.stringValue != entityID
                    || content["entity_kind"]?.stringValue != kind || content["seq"] != .number(Double(seq))
                    || content["at"]?.stringValue != at.canonicalText
                {
                    problem = "columns differ from the hashed body"
                }
            } else {
                problem = "the body is not a JSON object"
            }
            if let problem {
                result.firstBad = seq
                result.problem = problem
            }
            previous = [UInt8](hex: hashHex) ?? []
        }
        if result.firstBad == nil, result.headSeq != expectedSeq || (result.headSeq > 0 && result.headHash != previous.hexString) {
            result.firstBad = result.headSeq
            result.problem = "the chain head does not match the last entry"
        }
        return result
    }

    /// One audit entry as people read it.
    public struct AuditRecord: Sendable, Codable {
        public var seq: Int64
        public var at: Date
        public var action: String
        public var entityKind: String
        public var entityID: String
        /// The entry's hashed content: source, mapping and version, before and after.
        public var content: FieldValue
    }

    /// Every audit entry about one entity (or failure), oldest first.
    public func trail(of entityID: String) async throws -> [AuditRecord] {
        let rows = try await self.rows(
            "SELECT seq, at, action, entity_kind, entity_id, body FROM audit_entry WHERE entity_id = \(entityID) ORDER BY seq",
            logger: logger)
        var records: [AuditRecord] = []
        for try await (seq, at, action, kind, id, body) in rows.decode((Int64, Date, String, String, String, String).self) {
            records.append(
                AuditRecord(
                    seq: seq, at: at, action: action, entityKind: kind, entityID: id,
                    content: (try? FieldValue(jsonText: body)) ?? .string(body)))
        }
        return records
    }
}

extension AuditLog {
    /// The admins' actions (replays, ignores, retries, approvals, pauses, identity decisions, users and tokens),
    /// newest first: `limit` of them below `before`. Read through the partial index of those actions.
    public func decisions(before: Int64? = nil, limit: Int = 50) async throws -> [AuditRecord] {
        let rows = try await self.rows(
            """
            SELECT seq, at, action, entity_kind, entity_id, body FROM audit_entry
            WHERE action IN ('ignore', 'replay', 'replay_failed', 'delivery.retry', 'delivery.approve', 'delivery.refuse',
                             'incident.split', 'incident.merge', 'candidate.accept', 'candidate.reject', 'conflict.resolve', 'stream.pause', 'stream.resume',
                             'user.create', 'user.update', 'token.create', 'token.revoke', 'job.start')
              AND (\(before)::bigint IS NULL OR seq < \(before))
            ORDER BY seq DESC LIMIT \(max(1, min(limit, 500)))
            """, logger: logger)
        var records: [AuditRecord] = []
        for try await (seq, at, action, kind, id, body) in rows.decode((Int64, Date, String, String, String, String).self) {
            records.append(
                AuditRecord(
                    seq: seq, at: at, action: action, entityKind: kind, entityID: id, content: (try? FieldValue(jsonText: body)) ?? .string(body)))
        }
        return records
    }
}
