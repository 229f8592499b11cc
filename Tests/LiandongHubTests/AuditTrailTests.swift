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
        #expect(AuditChain.body(seq: 7, at: at, draft: written) == AuditChain.body(seq: 7, at: at, draft: plain))
    }

    @Test func aTrailChainsItsPartsAsOneChain() {
        let drafts = (1...5).map { AuditDraft(action: AuditAction(rawValue: "test"), entityKind: "hub", entityID: "\($0)", content: ["n": .number(Double($0))]) }
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        let trail = AuditTrail(after: (10, AuditChain.genesis), at: at)
        trail.add(Array(drafts.prefix(2)))
        trail.add([])
        trail.add(Array(drafts.suffix(3)))
        #expect(trail.entries == AuditChain.chain(drafts, after: (10, AuditChain.genesis), at: at))
        #expect(trail.entries.map(\.seq) == Array(11...15))
    }
}
