import Foundation
import LiandongAdapterKit
import LiandongHub
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// The real engine against the simulated agencies and a real PostgreSQL.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct SyncTests {
    static let catalog = try! MappingFixture.repositoryCatalog()

    static func kind(of agency: AgencySimulator.Agency) -> String {
        switch agency {
        case .hotline: "work_order"
        case .fire: "fire_alarm"
        case .weather: "warning"
        case .police: "police_ticket"
        case .ambulance: "ambulance_call"
        case .bureau: "bureau_incident"
        }
    }

    /// Syncs until a cycle brings nothing new and reports no error (at most `cycles`).
    static func syncUntilQuiet(_ engine: SyncEngine, _ adapter: some SourceAdapter, cycles: Int = 8) async throws
        -> [StreamStore.SyncRunRecord]
    {
        var runs: [StreamStore.SyncRunRecord] = []
        for _ in 0..<cycles {
            let cycle = try await engine.sync(adapter)
            runs += cycle
            let quiet = cycle.allSatisfy { $0.error == nil && $0.summary.inserted + $0.summary.updated + $0.summary.failures == 0 }
            if quiet { break }
        }
        return runs
    }

    @Test(arguments: AgencySimulator.Agency.allCases)
    func everyRecordArrivesOnceAndAResyncChangesNothing(agency: AgencySimulator.Agency) async throws {
        let simulator = AgencySimulator(.init(agency: agency, seed: 7, records: 45))
        let expected = Set(simulator.timeline.versions.map(\.id))
        try await simulator.withRunning { simulator in
            try await TestDatabase.withFreshHub(policies: Self.catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: Self.catalog, logger: hub.logger)
                let adapter = try simulator.makeAdapter(pageSize: 10)
                let first = try await engine.sync(adapter)
                #expect(first.allSatisfy { $0.error == nil })
                #expect(first.reduce(0) { $0 + $1.batches } > 1, "more than one page")
                let stats = try await hub.inspection.stats()
                #expect(stats.entities[Self.kind(of: agency)] == expected.count)
                #expect(stats.failures["open"] == 0)
                let again = try await engine.sync(adapter)
                #expect(again.allSatisfy { $0.summary.inserted + $0.summary.updated == 0 })
                let after = try await hub.inspection.stats()
                #expect(after.digest == stats.digest)
                #expect(after.auditHead == stats.auditHead)
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }

    /// Versions released over time: later syncs update entities and keep the replaced values.
    @Test func liveUpdatesBecomeNewVersions() async throws {
        var configuration = AgencySimulator.Configuration(agency: .hotline, seed: 3, records: 30)
        // Slow enough that a sync under load (other suites running beside it) still sees early versions.
        configuration.releasePerSecond = 8
        let simulator = AgencySimulator(configuration)
        try await simulator.withRunning { simulator in
            try await TestDatabase.withFreshHub(policies: Self.catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: Self.catalog, logger: hub.logger)
                let adapter = try simulator.makeAdapter()
                var updated = 0
                let started = Date()
                let releaseSeconds = Double(simulator.timeline.versions.count) / 8
                while Date().timeIntervalSince(started) < releaseSeconds + 1 {
                    updated += try await engine.sync(adapter).reduce(0) { $0 + $1.summary.updated }
                    try await Task.sleep(for: .milliseconds(250))
                }
                _ = try await engine.sync(adapter)
                let stats = try await hub.inspection.stats()
                #expect(stats.entities["work_order"] == Set(simulator.timeline.versions.map(\.id)).count)
                #expect(updated > 0)
                #expect(stats.alternateValues > 0)
            }
        }
    }

    static let faultCases: [(AgencySimulator.Agency, Fault)] =
        [AgencySimulator.Agency.hotline, .fire].flatMap { agency in Fault.allCases.map { (agency, $0) } }
        + [Fault.serverError, .timeout, .truncated].map { (.weather, $0) }

    /// Every fault a simulator injects is survived: transient ones are retried, broken documents are
    /// quarantined with the cursor held so their records are fetched again, a malformed record is
    /// quarantined with its field path. Nothing received is lost.
    @Test(arguments: faultCases)
    func faultsAreSurvived(agency: AgencySimulator.Agency, fault: Fault) async throws {
        let simulator = AgencySimulator(.init(agency: agency, seed: 11, records: 25))
        let expected = Set(simulator.timeline.versions.map(\.id))
        simulator.faults.inject(fault)
        try await simulator.withRunning { simulator in
            try await TestDatabase.withFreshHub(policies: Self.catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: Self.catalog, logger: hub.logger)
                _ = try await Self.syncUntilQuiet(engine, try simulator.makeAdapter(pageSize: 10, timeoutSeconds: 1.5))
                #expect(simulator.faults.remaining == 0)
                let stored = try await hub.inspection.stats().entities[Self.kind(of: agency)] ?? 0
                let failures = try await hub.quarantine.groups(source: agency.rawValue)
                if fault == .malformedRecord {
                    #expect(stored == expected.count - 1)
                    #expect(failures.count == 1)
                    #expect(failures.first.map { $0.path != "/" && $0.count == 1 } == true, "\(failures)")
                } else {
                    #expect(stored == expected.count, "\(failures)")
                    #expect(failures.allSatisfy { $0.path == "/" }, "only whole documents are quarantined: \(failures)")
                }
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }
}
