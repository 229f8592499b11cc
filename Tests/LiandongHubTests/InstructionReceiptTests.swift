import Foundation
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongTestKit
import LiandongTestSupport
import Testing

/// Bureau instructions tracked per addressee, whatever order the instruction, its later versions and
/// the addressees' replies arrive in.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct InstructionReceiptTests {
    static let catalog = try! MappingFixture.repositoryCatalog()

    static func instruction(units: String, deadline: String, updated: String) throws -> IngestBatch {
        let page = """
            {"code":0,"data":{"hasMore":false,"records":[{"ZLBH":"ZL001","ZLBT":"关于做好防汛工作的指令","ZLNR":"请立即组织排查。",
             "XFSJ":"2026-11-18 08:00:00","XFDW":"市应急管理局","JSDW":"\(units)","FKSX":"\(deadline)","GXSJ":"\(updated)"}]}}
            """
        return try catalog.mapping(named: "emergency-bureau/instruction").batch([page])
    }

    static func fireReply(feedback: String?) throws -> IngestBatch {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?><ZLFKLB><ZLFK><FKBH>FK1</FKBH><ZLBH>ZL001</ZLBH><QSR>值班领导</QSR>
            <QSSJ>2026-11-18 08:05:00</QSSJ>\(feedback.map { "<FKNR>\($0)</FKNR><FKSJ>2026-11-18 09:00:00</FKSJ>" } ?? "")
            <GXSJ>2026-11-18 0\(feedback == nil ? 8 : 9):05:00</GXSJ></ZLFK></ZLFKLB>
            """
        return try catalog.mapping(named: "fire-119/instruction-reply").batch([xml])
    }

    @Test func receiptsFollowTheInstructionAndItsReplies() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            // 119's signature arrives before the instruction it signs for: kept, and taken when the receipt is written.
            _ = try await hub.ingest(try Self.fireReply(feedback: nil))
            _ = try await hub.ingest(try Self.instruction(units: "市消防救援支队;市公安局指挥中心", deadline: "2026-11-18 10:00:00", updated: "2026-11-18 08:00:00"))
            var receipts = Dictionary(uniqueKeysWithValues: try await hub.outbox.instructionReceipts().map { ($0.addressee, $0) })
            #expect(Set(receipts.keys) == ["fire-119", "police-110"])
            #expect(receipts["fire-119"]?.state == "acknowledged" && receipts["fire-119"]?.acknowledgedBy == "值班领导")
            #expect(receipts["police-110"]?.state == "waiting" && receipts["police-110"]?.delivery == "none")

            // A later version adds an addressee and moves the deadline, for everyone.
            _ = try await hub.ingest(
                try Self.instruction(units: "市消防救援支队;市公安局指挥中心;市12345热线", deadline: "2026-11-19 10:00:00", updated: "2026-11-18 08:30:00"))
            receipts = Dictionary(uniqueKeysWithValues: try await hub.outbox.instructionReceipts().map { ($0.addressee, $0) })
            #expect(Set(receipts.keys) == ["fire-119", "police-110", "hotline-12345"])
            #expect(Set(receipts.values.map { $0.feedbackDeadline?.canonicalText }) == ["2026-11-19T02:00:00Z"])
            #expect(receipts["fire-119"]?.acknowledgedAt != nil)

            // 119 reports back: answered, no longer pending; the others are overdue once the deadline passed.
            _ = try await hub.ingest(try Self.fireReply(feedback: "已完成排查。"))
            receipts = Dictionary(uniqueKeysWithValues: try await hub.outbox.instructionReceipts().map { ($0.addressee, $0) })
            #expect(receipts["fire-119"]?.state == "answered" && receipts["fire-119"]?.feedback == "已完成排查。")
            #expect(receipts["fire-119"]?.overdue == false)
            #expect(Set(try await hub.outbox.instructionReceipts(pendingOnly: true).map(\.addressee)) == ["police-110", "hotline-12345"])
            #expect(Set(try await hub.outbox.instructionReceipts(overdueOnly: true).map(\.addressee)) == ["police-110", "hotline-12345"])
            #expect(try await hub.audit.verify().firstBad == nil)
        }
    }
}
