import Crypto
import Foundation
import LiandongModel

/// An audit entry before it is numbered and chained.
struct AuditDraft: Sendable {
    var action: AuditAction
    var entityKind: String
    var entityID: String
    var content: [String: FieldValue]
    /// Members of `content` already written as canonical JSON (a record's fields, written for its row
    /// and content hash): the body takes these bytes instead of writing the value again.
    var written: [String: [UInt8]] = [:]

    /// A change to an entity by a mapped record; `afterJSON`, when given, is `after` as canonical JSON.
    static func entity(
        action: AuditAction, record: CanonicalRecord, id: UUID, before: FieldValue?, after: FieldValue, afterJSON: [UInt8]? = nil
    ) -> AuditDraft {
        AuditDraft(
            action: action, entityKind: record.kind.rawValue, entityID: id.uuidString.lowercased(),
            content: [
                "source": .string(record.source.rawValue), "external_id": .string(record.externalID),
                "mapping": .string(record.mapping.name), "mapping_version": .number(Double(record.mapping.version)),
                "source_time": .string(record.sourceTime.canonicalText), "before": before ?? .null, "after": after,
            ],
            written: afterJSON.map { ["after": $0] } ?? [:])
    }
}

/// A numbered, chained audit entry.
public struct AuditEntry: Sendable, Hashable {
    public var seq: Int64
    public var at: Date
    public var action: AuditAction
    public var entityKind: String
    public var entityID: String
    /// The canonical JSON the hash covers.
    public var body: String
    public var previousHash: [UInt8]
    public var hash: [UInt8]
}

/// The SHA-256 hash chain over audit entries: `hash = SHA-256(prev_hash ‖ body)`.
public enum AuditChain {
    /// The hash before the first entry.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The body of an entry: its content plus number, time, action and subject, as canonical JSON.
    static func body(seq: Int64, at: Date, draft: AuditDraft) -> String {
        var content = draft.content
        content["seq"] = .number(Double(seq))
        content["at"] = .string(at.canonicalText)
        content["action"] = .string(draft.action.rawValue)
        content["entity_kind"] = .string(draft.entityKind)
        content["entity_id"] = .string(draft.entityID)
        guard !draft.written.isEmpty else { return FieldValue.object(content).canonicalJSON }
        let members = content.filter { draft.written[$0.key] == nil }.mapValues(\.canonicalJSONBytes).merging(draft.written) { $1 }
        return String(decoding: FieldValue.canonicalJSONBytes(ofWrittenMembers: members), as: UTF8.self)
    }

    /// The hash of an entry given the previous one.
    public static func hash(previous: [UInt8], body: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: Data(body.utf8))
        return Array(hasher.finalize())
    }

    /// Numbers and chains drafts after the head `(seq, hash)`.
    static func chain(_ drafts: [AuditDraft], after head: (seq: Int64, hash: [UInt8]), at: Date) -> [AuditEntry] {
        // The body carries the time to the millisecond, the column to the microsecond: a time not on a
        // whole millisecond could read back rounding the other way and look tampered with.
        let at = Date(timeIntervalSince1970: (at.timeIntervalSince1970 * 1000).rounded() / 1000)
        // The bodies are independent of one another (written on every core); only the hashes chain.
        let bodies = Array(drafts.enumerated()).concurrentMap { n, draft in body(seq: head.seq + Int64(n) + 1, at: at, draft: draft) }
        var previous = head.hash
        return zip(drafts, bodies).enumerated().map { n, entry in
            let (draft, body) = entry
            let hash = hash(previous: previous, body: body)
            defer { previous = hash }
            return AuditEntry(
                seq: head.seq + Int64(n) + 1, at: at, action: draft.action, entityKind: draft.entityKind, entityID: draft.entityID,
                body: body, previousHash: previous, hash: hash)
        }
    }
}

extension Array where Element == UInt8 {
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self = bytes
    }
}
