import Foundation
@testable import LiandongHub
import LiandongModel
import Testing

/// Audit bodies are canonical JSON whichever way their members were written.
@Suite struct AuditTrailTests {
    @Test func aMemberWrittenBeforeGivesTheSameBody() {
        let fields: [String: FieldValue] = [
            "title": .string("仓山区 \"积水\"\n"), "units": .array([.object(["name": .string("站"), "personnel": .number(5)])]),
            "severity": .number(2.5), "location": .object(["lat": .number(26.07), "lon": .number(119.3)]),
        ]
        let record = CanonicalRecord(
            source: "exchange", kind: .exchangeReport, externalID: "FJ-1", sourceTime: Date(timeIntervalSince1970: 1_790_000_000),
            fields: fields, mapping: MappingRef(name: "exchange/report", version: 1))
        let id = UUID()
        let plain = AuditDraft.entity(action: .insert, record: record, id: id, before: nil, after: .object(fields))
        let written = AuditDraft.entity(
            action: .insert, record: record, id: id, before: nil, after: .object(fields),
            afterJSON: FieldValue.object(fields).canonicalJSONBytes)
        let at = Date(timeIntervalSince1970: 1_790_000_001)
        #expect(!written.written.isEmpty)
        let atMember = AuditChain.UnnumberedBody.member(at: at)
        let (writtenBody, plainBody) = (AuditChain.UnnumberedBody(written), AuditChain.UnnumberedBody(plain))
        #expect(writtenBody.numbered(7, atMember: atMember) == plainBody.numbered(7, atMember: atMember))
    }

    /// A body written before the chain head is known, then numbered and timed, is the canonical JSON
    /// of all its members, whichever side of "at" and "seq" its keys sort to (or none on one side).
    @Test func aBodyPreparedBeforeTheHeadIsNumberedToTheSameBytes() {
        let at = Date(timeIntervalSince1970: 1_790_000_001.234)
        let drafts = [
            AuditDraft(action: .insert, entityKind: "exchange_report", entityID: "x", content: ["after": .object(["a": .number(1)]), "zz": .null]),
            AuditDraft(action: .link, entityKind: "incident", entityID: "y", content: [:]),
            AuditDraft(action: .link, entityKind: "incident", entityID: "y", content: ["aa": .string("前"), "s": .bool(true), "sf": .number(2)]),
            AuditDraft(
                action: .insert, entityKind: "k", entityID: "z", content: ["after": .object(["t": .string("\"\n")]), "source": .string("s")],
                written: ["after": FieldValue.object(["t": .string("\"\n")]).canonicalJSONBytes]),
        ]
        for (n, draft) in drafts.enumerated() {
            var members = draft.content
            members["seq"] = .number(Double(1_000_000 + n))
            members["at"] = .string(at.canonicalText)
            members["action"] = .string(draft.action.rawValue)
            members["entity_kind"] = .string(draft.entityKind)
            members["entity_id"] = .string(draft.entityID)
            let expected = FieldValue.object(members).canonicalJSON
            let atMember = AuditChain.UnnumberedBody.member(at: at)
            let body = AuditChain.UnnumberedBody(draft).numbered(Int64(1_000_000 + n), atMember: atMember)
            #expect(body == Array(expected.utf8))
        }
        var changes = ChangeSet()
        for draft in drafts { changes.append(draft) }
        changes.prepareBodies()
        let head: (seq: Int64, hash: [UInt8]) = (41, AuditChain.genesis)
        #expect(AuditChain.chain(changes.drafts, after: head, at: at) == AuditChain.chain(drafts, after: head, at: at))
    }

    /// A transaction's changes keep the order they were made in, and say which entities each left
    /// at a new version, once each: what the outbox owes follows from them, not from audit actions.
    @Test func aChangeSetKeepsOrderAndNewVersionsOnce() {
        func draft(_ n: Int) -> AuditDraft {
            AuditDraft(action: AuditAction(rawValue: "test"), entityKind: "hub", entityID: "\(n)", content: ["n": .number(Double(n))])
        }
        let (report, incident, again) = (UUID(), UUID(), UUID())
        var changes = ChangeSet()
        changes.append(draft(1), newVersionOf: .workOrder, id: report)
        changes.append(draft(2))
        var resolved = ChangeSet()
        resolved.append(draft(3), newVersionOf: .incident, id: incident)
        resolved.append(draft(4), newVersionOf: .workOrder, id: report)
        resolved.append(draft(5), newVersionOf: .workOrder, id: again)
        changes += resolved
        changes += [draft(6)]
        #expect(changes.drafts.map(\.entityID) == ["1", "2", "3", "4", "5", "6"])
        #expect(changes.newVersions.map(\.id) == [report, incident, again])
        let byKind = changes.changedEntities.byKind
        #expect(byKind.map(\.kind) == [.incident, .workOrder])
        #expect(changes.changedEntities.ids(of: .workOrder) == [report, again])
        // Begun after the head, the set chains its drafts as they come: the same chain as all at once.
        let head: (seq: Int64, hash: [UInt8]) = (10, AuditChain.genesis)
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        var chained = ChangeSet(after: head, at: at)
        chained.append(draft(1), newVersionOf: .workOrder, id: report)
        chained += []
        chained += [draft(2), draft(3)]
        chained += resolved
        let all = [1, 2, 3, 3, 4, 5].map(draft)
        #expect(chained.entries(after: head) == AuditChain.chain(all, after: head, at: at))
        #expect(chained.entries(after: head).map(\.seq) == Array(11...16))
    }
}
