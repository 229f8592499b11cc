import Crypto
import Foundation
import LiandongModel

/// An audit entry before it is numbered and chained.
struct AuditDraft: Sendable {
    var action: AuditAction
    var entityKind: String
    var entityID: String
    var content: [String: FieldValue] {
        didSet { prepared = nil }
    }
    /// Members of `content` already written as canonical JSON (a record's fields, written for its row
    /// and content hash): the body takes these bytes instead of writing the value again.
    var written: [String: [UInt8]] = [:] {
        didSet { prepared = nil }
    }
    /// Its body but for number and time, when written before the chain head was known
    /// (`ChangeSet.prepareBodies`); dropped when what it was written from changes.
    var prepared: AuditChain.UnnumberedBody?

    /// A change to an entity by a mapped record; `afterJSON`, when given, is `after` as canonical JSON.
    static func entity(
        action: AuditAction, record: CanonicalRecord, id: UUID, before: FieldValue?, after: FieldValue, afterJSON: [UInt8]? = nil
    ) -> AuditDraft {
        AuditDraft(
            action: action, entityKind: record.kind.rawValue, entityID: id.lowercasedText,
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

    /// An entry's body (its content plus number, time, action and subject, as canonical JSON) with every
    /// member written but its number and time: so that it can be written
    /// before the chain head is known (`ChangeSet.prepareBodies`), and numbered and timed once it is.
    struct UnnumberedBody: Sendable {
        /// The members that sort before "at", between "at" and "seq", and after "seq", each as
        /// canonical JSON members (`"key":value` joined by commas) without braces.
        var groups: [[UInt8]]

        init(_ draft: AuditDraft) {
            var content = draft.content
            content["action"] = .string(draft.action.rawValue)
            content["entity_kind"] = .string(draft.entityKind)
            content["entity_id"] = .string(draft.entityID)
            content["at"] = nil
            content["seq"] = nil
            let members = content.filter { draft.written[$0.key] == nil }.mapValues(\.canonicalJSONBytes)
                .merging(draft.written.filter { $0.key != "at" && $0.key != "seq" }) { $1 }
            func precedes(_ key: String, _ other: String) -> Bool { key.utf8.lexicographicallyPrecedes(other.utf8) }
            groups = [
                members.filter { precedes($0.key, "at") },
                members.filter { !precedes($0.key, "at") && precedes($0.key, "seq") },
                members.filter { !precedes($0.key, "seq") },
            ].map { Array(FieldValue.canonicalJSONBytes(ofWrittenMembers: $0).dropFirst().dropLast()) }
        }

        /// The `"at":"…"` member of a time, written once for every body a chain numbers at that time.
        static func member(at time: Date) -> [UInt8] {
            Array(#""at":"#.utf8) + FieldValue.string(time.canonicalText).canonicalJSONBytes
        }

        /// The body numbered `seq` at the time of `atMember`: the same bytes as the canonical JSON of all
        /// the members. Written into one buffer sized up front (joining the pieces as sequences went byte
        /// by byte).
        func numbered(_ seq: Int64, atMember: [UInt8]) -> [UInt8] {
            let number = Array(#""seq":\#(seq)"#.utf8)
            var body: [UInt8] = []
            body.reserveCapacity(groups.reduce(atMember.count + number.count + 6) { $0 + $1.count })
            body.append(UInt8(ascii: "{"))
            for member in [groups[0], atMember, groups[1], number, groups[2]] where !member.isEmpty {
                if body.count > 1 { body.append(UInt8(ascii: ",")) }
                body.append(contentsOf: member)
            }
            body.append(UInt8(ascii: "}"))
            return body
        }
    }

    /// An entry's time as its body carries it: to the millisecond. The column keeps microseconds, so a
    /// time not on a whole millisecond could read back rounding the other way and look tampered with.
    static func entryTime(_ time: Date) -> Date {
        Date(timeIntervalSince1970: (time.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// The hash of an entry given the previous one.
    public static func hash(previous: [UInt8], body: String) -> [UInt8] {
        hash(previous: previous, body: Array(body.utf8))
    }

    static func hash(previous: [UInt8], body: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: body)
        return Array(hasher.finalize())
    }

    /// Numbers and chains drafts after the head `(seq, hash)`.
    static func chain(_ drafts: [AuditDraft], after head: (seq: Int64, hash: [UInt8]), at: Date) -> [AuditEntry] {
        let at = entryTime(at)
        let atMember = UnnumberedBody.member(at: at)
        // The bodies are independent of one another (written on every core, or before); only the hashes chain.
        let bodies = Array(drafts.enumerated()).concurrentMap { n, draft in
            (draft.prepared ?? UnnumberedBody(draft)).numbered(head.seq + Int64(n) + 1, atMember: atMember)
        }
        var previous = head.hash
        return zip(drafts, bodies).enumerated().map { n, entry in
            let (draft, body) = entry
            let hash = hash(previous: previous, body: body)
            defer { previous = hash }
            return AuditEntry(
                seq: head.seq + Int64(n) + 1, at: at, action: draft.action, entityKind: draft.entityKind, entityID: draft.entityID,
                body: String(decoding: body, as: UTF8.self), previousHash: previous, hash: hash)
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
