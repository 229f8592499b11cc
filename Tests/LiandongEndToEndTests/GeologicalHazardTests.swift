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

/// Natural resources: the geological hazard risk warnings (CAP 1.2) reach the 群测群防 platform, and
/// a red or orange one calls the monitor of every hazard point inside its area, whose
/// acknowledgements come back through the platform.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct GeologicalHazardTests {
    @Test(.timeLimit(.minutes(2))) func aRedWarningCallsTheMonitorsOfTheHazardPointsItCovers() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        try await FolderSimulator.withRunning(["natural-resources", "geohazard"], catalog: catalog) { simulators in
            let platform = simulators[1]
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                let geohazard = try platform.makeAdapter()
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try #require(geohazard.receiver)]) {
                    #expect(try await engine.sync(geohazard).allSatisfy { $0.error == nil })
                    let runs = try await engine.sync(try simulators[0].makeAdapter())
                    #expect(runs.allSatisfy { $0.error == nil })
                    #expect(try await hub.outbox.waitForDeliveries(to: "geohazard"))
                }
                let stats = try await hub.inspection.stats()
                #expect(stats.entities["hazard_point"] == 12 && stats.failures["open"] ?? 0 == 0)
                #expect(platform.received.count == 4, "every colour reaches the platform")

                let calls = try await hub.outbox.callouts()
                func called(_ warning: String) -> Set<String> { Set(calls.filter { $0.warningID == "36000041600000_\(warning)" }.map(\.person)) }
                // The red warning's polygon covers six points of 修水 and 武宁 with five monitors; two points
                // of those counties lie outside it and their monitors are not called.
                let red: Set<String> = ["徐国平", "冷志强", "匡美兰", "卢建华", "柯小明"]
                #expect(called("20260621163000") == red)
                #expect(called("20260621164000") == ["蔡庆华", "邹红梅"], "the orange polygon over 德安")
                #expect(called("20260622083000") == red, "its update, orange now, calls the same monitors again")
                #expect(called("20260621165000").isEmpty, "yellow is not called")
                #expect(calls.allSatisfy { $0.target == "geohazard" })
                // 徐国平, 卢建华 and 柯小明 signed for the red warning on the platform.
                let acknowledged = Set(calls.filter { $0.warningID == "36000041600000_20260621163000" && $0.acknowledgedAt != nil }.map(\.person))
                #expect(acknowledged == ["徐国平", "卢建华", "柯小明"])
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }
}
