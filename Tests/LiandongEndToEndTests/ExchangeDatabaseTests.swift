import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// 12345 ↔ 110 through a shared exchange database (中间库, the Yunnan plan), a PostgreSQL server of
/// its own: 12345's police matters in Yunnan are written into 110's transfer table once each, the row's id is
/// the acceptance, and the ticket 110 writes for a transfer answers it and reports back to 12345,
/// as the loop does over HTTP.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct ExchangeDatabaseTests {
    @Test(.timeLimit(.minutes(3))) func aTransferGoesThroughTheExchangeDatabaseAndItsAnswerComesBack() async throws {
        // The repository's own routing: Yunnan's police matters go to the 中间库, the rest to 110's API.
        let catalog = try MappingFixture.repositoryCatalog()
        // The shared exchange database: a second embedded PostgreSQL, its tables made of the folder's samples.
        let server = try EmbeddedPostgres(dataDirectory: Scratch.path("exchange-database"), logger: TestDatabase.logger)
        try server.start()
        defer { server.stop() }
        let exchange = server.location.with(database: "zjk")
        try await Hub.createDatabaseIfNeeded(at: exchange, logger: TestDatabase.logger)
        let agencies = try AdapterCatalog.repository()
        try await DatabaseSamples.load(try agencies.definition("police-110-exchange"), into: exchange.connectionConfiguration, logger: TestDatabase.logger)
        let tables = OutsideSQL(exchange)
        try await AgencySimulator(.init(agency: .hotline, seed: 5, records: 40)).withRunning { hotline in
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                let police = try agencies.make("police-110-exchange", baseURL: exchange.url, token: nil, logger: hub.logger)
                let receivers = [try #require(police.receiver), try hotline.makeTarget()]
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: receivers) {
                    let runs = try await engine.sync(try hotline.makeAdapter())
                    let delivered = try await hub.outbox.waitForDeliveries(to: "police-110-exchange")
                    #expect(runs.allSatisfy { $0.error == nil } && delivered)
                }
                let transfers = try await hub.outbox.transfers()
                let sent = transfers.filter { $0.toSystem == "police-110-exchange" }
                let kunming = Set(hotline.timeline.versions.filter { $0["areaCode"]?.hasPrefix("53") == true }.map(\.id))
                #expect(!sent.isEmpty && Set(sent.map(\.fromNumber)) == kunming)
                #expect(transfers.contains { $0.toSystem == "police-110" } && !transfers.contains { $0.toSystem == "police-110" && kunming.contains($0.fromNumber) })
                // One row per transfer in 110's table; its id is the acceptance number.
                #expect(try await tables.integer(#"SELECT count(DISTINCT idempotency_key)::int FROM "ZJK_12345_ZBD""#) == sent.count)
                #expect(try await tables.integer(#"SELECT count(*)::int FROM "ZJK_12345_ZBD""#) == sent.count)
                #expect(sent.allSatisfy { $0.state == "accepted" && $0.toNumber != nil }, "\(sent.map(\.state))")
                // Sent again (every delivery retried): the table keeps one row each, the same acceptance.
                let delivered = try await hub.outbox.deliveries(statuses: [.delivered], target: "police-110-exchange").map(\.id)
                for id in delivered {
                    let detail = try await hub.outbox.delivery(id)
                    let message = OutboundMessage(
                        idempotencyKey: detail.delivery.idempotencyKey, kind: .transfer, body: try #require(detail.sentBytes),
                        contentType: detail.sentContentType ?? "application/json")
                    #expect(try await receivers[0].push(message).reference == detail.delivery.receipt)
                }
                #expect(try await tables.integer(#"SELECT count(*)::int FROM "ZJK_12345_ZBD""#) == sent.count)

                // 110 writes the ticket it opened for the first transfer, with its result.
                let answered = sent[0]
                try await tables.execute(
                    """
                    INSERT INTO "ZJK_110_JJD" ("JJDBH", "BJSJ", "JQLB", "JQXL", "JDZT", "XZQH", "CJFK", "ZBGDBH", "GXSJ")
                    VALUES ('5301020120261118009999', '2026-11-18T21:00:00', '治安', '噪音扰民', '结警', '530102', '民警到场处置完毕。',
                            '\(answered.fromNumber)', '2026-11-18 21:10:00')
                    """)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [receivers[1]]) {
                    let runs = try await engine.sync(police)
                    let delivered = try await hub.outbox.waitForDeliveries(to: "hotline-12345")
                    #expect(runs.allSatisfy { $0.error == nil } && delivered)
                }
                let after = try #require(try await hub.outbox.transfers().first { $0.id == answered.id })
                #expect(after.state == "answered" && after.feedback == "民警到场处置完毕。", "\(after.state)")
                #expect(hotline.inbox.documents.contains { $0.kind == "transfer_feedback" && $0.text.contains("民警到场处置完毕") })
                let stats = try await hub.inspection.stats()
                #expect(stats.entities["police_ticket"] == 4, "the samples' three and the new one: \(stats.entities) \(stats.failures)")
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }
}
