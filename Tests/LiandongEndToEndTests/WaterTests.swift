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

/// The water resources department's SL 323 rain and water database, read through the database
/// transport from a copy made of the folder's samples: a river over its limits raises a warning by
/// `policies/thresholds.yaml`, 119 is called out for the orange one and acknowledges it, the bureau
/// gets every message, and the broadcast platform's copy waits for approval.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct WaterTests {
    /// The warnings the water system raised, oldest first: identifier, message type, colour, what it supersedes.
    static func warnings(_ database: OutsideSQL) async throws -> [(id: String, type: String, colour: String, references: String?)] {
        try await database.execute(
            """
            SELECT external_id, data ->> 'msg_type', data ->> 'colour', data -> 'references' ->> 0 FROM warning
            WHERE source_system = 'water' ORDER BY source_time, external_id
            """
        ).map { try $0.decode((String, String, String, String?).self) }.map { ($0.0, $0.1, $0.2, $0.3) }
    }

    @Test(.timeLimit(.minutes(3))) func aRiverOverItsLimitsIsWarnedCalledOutAndAcknowledged() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let agencies = try AdapterCatalog.repository()
        // The province's copy of its real-time rain and water database, made of the folder's samples.
        let copy = try await TestDatabase.makeFreshDatabase()
        try await DatabaseSamples.load(try agencies.definition("water"), into: copy.connectionConfiguration, logger: TestDatabase.logger)
        let fire = AgencySimulator(.init(agency: .fire, seed: 8, records: 1))
        try await fire.withRunning { fire in
            let location = try await TestDatabase.makeFreshDatabase()
            try await Hub.withHub(at: location, policies: catalog.policies, logger: TestDatabase.logger) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                let water = try agencies.make("water", baseURL: copy.url, token: nil, pageSize: 25, logger: hub.logger)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try fire.makeTarget()]) {
                    let runs = try await engine.sync(water)
                    #expect(runs.allSatisfy { $0.error == nil }, "\(runs.compactMap(\.error).map { String(reflecting: $0) })")
                    #expect(try await hub.outbox.waitForDeliveries(to: "fire-119"))
                }
                let stats = try await hub.inspection.stats()
                #expect(stats.entities["water_station"] == 12 && stats.entities["reservoir_limit"] == 6)
                #expect(stats.failures["open"] ?? 0 == 0, "every sample row maps")

                // 梓坊 (62402300): over 警戒水位 25.50 at 07:00 (yellow), over 保证水位 27.00 at 10:00
                // (orange), back under it at 14:00 (yellow), under every limit at 18:00 (cancelled).
                // 东津水库 (62300300): over its July–September 汛限水位 at 09:00. 柘林 and 南阳 exceed
                // only their April–June limits, which do not hold in July.
                let raised = try await Self.warnings(OutsideSQL(location))
                let zifang = raised.filter { $0.id.hasPrefix("water-62402300-") }
                #expect(zifang.map(\.id) == ["070000", "100000", "140000", "180000"].map { "water-62402300-20260714\($0)" })
                #expect(zifang.map(\.type) == ["Alert", "Update", "Update", "Cancel"])
                #expect(zifang.map(\.colour) == ["yellow", "orange", "yellow", "yellow"])
                #expect(zifang.dropFirst().map { $0.references?.split(separator: ",")[1] } == zifang.dropLast().map { Substring($0.id) })
                #expect(raised.filter { $0.id.hasPrefix("water-62300300-") }.map(\.id) == ["water-62300300-20260714090000"])
                #expect(raised.count == 5, "\(raised.map(\.id))")

                // 119 is called for the orange message and its duty commander acknowledges it.
                _ = try await engine.sync(try fire.makeAdapter())
                let calls = try await hub.outbox.callouts()
                #expect(Set(calls.map(\.warningID)) == ["water-62402300-20260714100000"])
                #expect(calls.contains { $0.person == SimulatedInbox.acknowledgingPost && $0.acknowledgedAt != nil })
                // The bureau is owed every message; the broadcast platform the orange one and the two that
                // follow it (updates and cancels follow the warning), each waiting for approval.
                let bureau = try await hub.outbox.deliveries(statuses: nil, target: "emergency-bureau", kind: "warning")
                #expect(bureau.count == 5)
                let broadcast = try await hub.outbox.deliveries(statuses: nil, target: "broadcast", kind: "warning")
                #expect(broadcast.count == 3 && broadcast.allSatisfy { $0.status == .awaitingApproval }, "\(broadcast.map(\.status))")
                #expect(try await hub.audit.verify().firstBad == nil)

                // Read again (the overlap re-reads the last rows): nothing is raised twice.
                _ = try await engine.sync(water)
                #expect(try await Self.warnings(OutsideSQL(location)).count == 5)
            }
            // An operator answers the broadcasts from the command line: one approved, one refused, with reasons.
            let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url])
            let listed = try await cli.run(["deliveries", "list", "--awaiting", "--json"])
            let ids = try #require(try FieldValue(jsonText: listed.stdout).arrayValue).compactMap { $0.objectValue?["id"]?.scalarText }
            #expect(ids.count == 3, "\(listed.stdout)\(listed.stderr)")
            let approved = try await cli.run(["deliveries", "approve", ids[0], "--reason", "核实无误"])
            #expect(approved.status == 0 && approved.stdout.contains("\(ids[0]) approved, queued"), "\(approved.stdout)\(approved.stderr)")
            let refused = try await cli.run(["deliveries", "refuse", ids[0], ids[1], "--reason", "已解除"])
            #expect(refused.stdout.contains("\(ids[1]) refused") && refused.stdout.contains("not awaiting approval (left alone): \(ids[0])"))
            #expect(try await cli.run(["deliveries", "refuse", ids[2]]).status != 0, "a refusal needs its reason")
        }
    }
}
