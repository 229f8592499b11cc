import Foundation
import LiandongHub
import LiandongSimulator
import LiandongSync
import LiandongTestSupport
import ServiceLifecycle
import Testing

/// The scheduler in process, riding through an agency outage and a PostgreSQL restart.
@Suite(.serialized) struct SchedulerFaultTests {
    /// Runs a scheduler for `body`'s duration, then shuts it down gracefully.
    static func withScheduler<T: Sendable>(
        _ engine: SyncEngine, _ jobs: [StreamScheduler.Job], instance: String = "only", _ body: () async throws -> T
    ) async throws -> T {
        let scheduler = StreamScheduler(engine: engine, jobs: jobs, instance: instance, leaseSeconds: 3, pollInterval: .milliseconds(200))
        let group = ServiceGroup(services: [scheduler], logger: TestDatabase.logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let result = try await body()
            await group.triggerGracefulShutdown()
            return result
        }
    }

    static func waitFor(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// An agency answering 503 for a while: the stream backs off and shows its failures, then recovers
    /// by itself with nothing lost.
    @Test(.timeLimit(.minutes(3))) func anOutageIsRiddenOut() async throws {
        let simulator = AgencySimulator(.init(agency: .fire, seed: 5, records: 40))
        simulator.faults.inject(.serverError, count: 12)
        try await simulator.withRunning { simulator in
            try await TestDatabase.withFreshHub { hub in
                let engine = SyncEngine(hub: hub, catalog: try MappingFixture.repositoryCatalog(), logger: hub.logger)
                let job = StreamScheduler.Job(
                    adapter: try simulator.makeAdapter(pageSize: 10, timeoutSeconds: 2, attempts: 2), schedule: Schedule(.every(0.2)))
                try await Self.withScheduler(engine, [job]) {
                    let failed = try await Self.waitFor(20) { try await hub.streams().first?.consecutiveFailures ?? 0 > 0 }
                    #expect(failed, "streams list shows the failures")
                    #expect(try await hub.streams().first?.lastError != nil)
                    let expected = Set(simulator.timeline.versions.map(\.id)).count
                    let recovered = try await Self.waitFor(60) {
                        let stream = try await hub.streams().first
                        return try await hub.stats().entities["fire_alarm"] == expected && stream?.consecutiveFailures == 0
                    }
                    #expect(recovered, "every alarm arrives once the agency is back")
                    #expect(try await hub.streams().first?.lagSeconds != nil)
                }
            }
        }
    }

    /// PostgreSQL stopped and started during syncs: the scheduler keeps running and catches up.
    @Test(.timeLimit(.minutes(3))) func aDatabaseRestartIsRiddenOut() async throws {
        let directory = Scratch.path("restart")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try EmbeddedPostgres(dataDirectory: directory, logger: TestDatabase.logger)
        _ = try server.start()
        defer { server.stop() }
        try await Hub.createDatabaseIfNeeded(at: server.location, logger: TestDatabase.logger)
        let simulator = AgencySimulator(.init(agency: .hotline, seed: 6, records: 60, releasePerSecond: 20))
        try await simulator.withRunning { simulator in
            try await Hub.withHub(at: server.location, logger: TestDatabase.logger) { hub in
                _ = try await hub.migrate()
                let engine = SyncEngine(hub: hub, catalog: try MappingFixture.repositoryCatalog(), logger: hub.logger)
                let job = StreamScheduler.Job(adapter: try simulator.makeAdapter(pageSize: 5), schedule: Schedule(.every(0.2)))
                try await Self.withScheduler(engine, [job]) {
                    #expect(try await Self.waitFor(20) { try await hub.stats().entities["work_order"] ?? 0 > 0 })
                    server.stop()
                    try await Task.sleep(for: .seconds(2))
                    _ = try server.start()
                    let expected = Set(simulator.timeline.versions.map(\.id)).count
                    let caughtUp = try await Self.waitFor(60) { (try? await hub.stats().entities["work_order"]) == expected }
                    #expect(caughtUp, "the scheduler reconnects and catches up")
                    let verification = try await hub.verifyAudit()
                    #expect(verification.firstBad == nil, "\(verification)")
                }
            }
        }
    }
}
