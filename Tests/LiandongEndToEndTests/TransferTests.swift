import Foundation
@testable import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// The 12345 ↔ 110 closed loop: routing opens transfers, the receiver's acceptance number and
/// result come back, the sender hears of both; what is not answered in time is overdue.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct TransferTests {
    @Test(.timeLimit(.minutes(3))) func aPoliceMatterCompletesTheLoopTo110AndBack() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let hotline = AgencySimulator(.init(agency: .hotline, seed: 2026, records: 60))
        let police = AgencySimulator(.init(agency: .police, seed: 2026, records: 60))
        try await AgencySimulator.withRunning(all: [hotline, police]) {
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try hotline.makeTarget(), try police.makeTarget()]) {
                    _ = try await engine.sync(try hotline.makeAdapter())
                    #expect(try await hub.outbox.waitForDeliveries(to: "police-110"))
                    _ = try await engine.sync(try police.makeAdapter())
                    #expect(try await hub.outbox.waitForDeliveries(to: "police-110"))
                    #expect(try await hub.outbox.waitForDeliveries(to: "hotline-12345"))
                }
                let transfers = try await hub.outbox.transfers()
                let toPolice = transfers.filter { $0.fromSystem == "hotline-12345" && $0.toSystem == "police-110" }
                #expect(!toPolice.isEmpty)
                #expect(toPolice.allSatisfy { $0.acceptedAt != nil && $0.toNumber != nil && $0.reason.contains("110") })
                // Those 110 opened a ticket for: its ticket number is the acceptance, its result the feedback.
                let answered = try #require(toPolice.first { $0.state == "answered" }, "\(toPolice.map(\.state))")
                #expect(answered.toNumber?.hasPrefix("110") == true && answered.toNumber?.contains("-R") == false)
                #expect(answered.feedback?.isEmpty == false)
                // 110 received the work order as a transfer, the citizen's number masked…
                let sent = try #require(police.inbox.documents.first { $0.kind == "transfer" && $0.text.contains(answered.fromNumber) })
                let document = try #require(try FieldValue(jsonText: sent.text).objectValue)
                #expect(document["工单编号"] == .string(answered.fromNumber))
                #expect(document["来电号码"]?.stringValue?.wholeMatch(of: /\d{3}\*+\d{4}/) != nil)
                // …and 12345 got 110's number and result back.
                let feedback = hotline.inbox.documents.filter { $0.kind == "transfer_feedback" }.compactMap {
                    try? FieldValue(jsonText: $0.text).objectValue
                }
                #expect(
                    feedback.contains {
                        $0["orderNo"] == .string(answered.fromNumber) && $0["policeTicketNo"] == answered.toNumber.map(FieldValue.string)
                            && $0["result"] == answered.feedback.map(FieldValue.string)
                    })
                // The work order's incident file holds the transfer (一事一档).
                let file = try await hub.incidents.file("hotline-12345:\(answered.fromNumber)")
                #expect(file.transfers.contains { $0.no == answered.no && $0.toNumber == answered.toNumber })
                // The other way: 110's non-police tickets went to 12345.
                #expect(transfers.contains { $0.fromSystem == "police-110" && $0.toSystem == "hotline-12345" && $0.acceptedAt != nil })
                #expect(hotline.inbox.documents.contains { $0.kind == "transfer" })
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }

    /// With no answer by the deadline, a transfer shows as overdue, in `transfers list --overdue` too.
    @Test(.timeLimit(.minutes(2))) func anUnansweredTransferIsOverdue() async throws {
        let repository = Repository.mappings
        func file(_ path: String) throws -> String { try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8) }
        let catalog = try MappingFixture.catalog([
            "hotline-12345/work-order.yaml": try file("hotline-12345/work-order.yaml"),
            "police-110/outbound/transfer.yaml": try file("police-110/outbound/transfer.yaml"),
            "policies/sharing.yaml": """
                agreements:
                  police-110:
                    version: 1
                    expires: 2099-01-01
                    kinds:
                      transfer: {fields: [from_number, reason]}
                """,
            "policies/routing.yaml": """
                rules:
                  - {name: noise, from: hotline-12345, kind: work_order, to: police-110, when: {incident_type: [noise]},
                     reason: 噪音扰民, accept_within: 4s, feedback_within: 4s}
                """,
        ])
        let hotline = AgencySimulator(.init(agency: .hotline, seed: 9, records: 30))
        try await hotline.withRunning { hotline in
            let location = try await TestDatabase.makeFreshDatabase()
            try await Hub.withHub(at: location, policies: catalog.policies, logger: TestDatabase.logger) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                _ = try await engine.sync(try hotline.makeAdapter())
                let open = try await engine.hub.outbox.transfers()
                #expect(!open.isEmpty && open.allSatisfy { $0.state == "sent" && $0.overdue == nil })
                try await Task.sleep(for: .seconds(4.5))
                let overdue = try await engine.hub.outbox.transfers(overdueOnly: true)
                #expect(overdue.count == open.count && overdue.allSatisfy { $0.overdue == "acceptance" })
                // With the newest answered, the overdue ones behind it are found within a limit of one.
                try #require(open.count >= 2)
                try await OutsideSQL(location).execute(
                    "UPDATE transfer SET accepted_at = now(), feedback = 'done', feedback_at = now() WHERE no = \(open[0].no)")
                let behind = try await engine.hub.outbox.transfers(overdueOnly: true, limit: 1)
                #expect(behind.map(\.no) == [open[1].no])
            }
            let listed = try await CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url]).run(["transfers", "list", "--overdue", "--json"])
            #expect(listed.status == 0, "\(listed.stderr)")
            let rows = try #require(try FieldValue(jsonText: listed.stdout).arrayValue)
            #expect(!rows.isEmpty && rows.allSatisfy { $0.objectValue?["overdue"] == .string("acceptance") })
        }
    }
}
