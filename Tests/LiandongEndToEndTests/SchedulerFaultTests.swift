import Foundation
import LiandongHub
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// `liandong serve` riding through an agency outage and a PostgreSQL restart, run as operations run
/// it: a process of its own against a real PostgreSQL and the simulators.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct SchedulerFaultTests {
    /// Starts `serve` on `location` with `sources` (YAML lines below `sources:`), runs `body`, then
    /// stops it with SIGTERM and expects a clean exit.
    static func withServe(
        at location: DatabaseLocation, sources: String, environment: [String: String] = [:], _ body: () async throws -> Void
    ) async throws {
        let config = Scratch.path("serve", extension: "yaml")
        try "serve: {listen: \"127.0.0.1:0\", lease_seconds: 3}\nsources:\n\(sources)\n".write(
            to: config, atomically: true, encoding: .utf8)
        let cli = CommandLineRunner(environment: environment.merging(["LIANDONG_DATABASE_URL": location.url]) { $1 })
        let serve = try cli.start(["serve", "--config", config.path, "--instance", "only"])
        do {
            try await body()
        } catch {
            kill(serve.pid, SIGKILL)
            throw error
        }
        kill(serve.pid, SIGTERM)
        let stopped = try await serve.output.value
        #expect(stopped.status == 0 && !stopped.killedBySignal, "a graceful stop: \(stopped.stderr.suffix(2000))")
    }

    /// Stops the server for two seconds. (A static helper: written inline in the test's closures it
    /// crashed the Swift 6.2 compiler's SendNonSendable pass.)
    static func restart(_ server: EmbeddedPostgres) async throws {
        server.stop()
        try await Task.sleep(for: .seconds(2))
        _ = try server.start()
    }

    /// Counted on a connection of its own, opened after the restart as before it.
    static func workOrders(at location: DatabaseLocation) async throws -> Int {
        try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { try await $0.inspection.stats().entities["work_order"] ?? 0 }
    }

    static func alarms(_ hub: Hub) async throws -> StreamStore.StreamStatus? {
        try await hub.streams.statuses().first { $0.stream == "alarms" }
    }

    static func waitFor(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// An agency answering 503 for a while: the stream backs off and shows its failures, then recovers
    /// by itself with nothing lost.
    @Test(.timeLimit(.minutes(3))) func anOutageIsRiddenOut() async throws {
        let simulator = AgencySimulator(.init(agency: .fire, seed: 5, records: 40))
        simulator.faults.inject(.serverError, count: 12)
        try await simulator.withRunning { simulator in
            let location = try await TestDatabase.makeFreshDatabase()
            try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
                let sources = "  fire-119: {url: \"\(simulator.baseURL!)\", page_size: 10, timeout_seconds: 2, attempts: 2, every: 200ms}"
                try await Self.withServe(at: location, sources: sources) {
                    let failed = try await Self.waitFor(30) { try await Self.alarms(hub)?.consecutiveFailures ?? 0 > 0 }
                    #expect(failed, "streams list shows the failures")
                    #expect(try await Self.alarms(hub)?.lastError != nil)
                    let expected = Set(simulator.timeline.versions.map(\.id)).count
                    let recovered = try await Self.waitFor(90) {
                        let failures = try await Self.alarms(hub)?.consecutiveFailures
                        return try await hub.inspection.stats().entities["fire_alarm"] == expected && failures == 0
                    }
                    #expect(recovered, "every alarm arrives once the agency is back")
                    #expect(try await Self.alarms(hub)?.lagSeconds != nil)
                }
            }
        }
    }

    /// PostgreSQL stopped and started during syncs: serve keeps running and catches up.
    @Test(.timeLimit(.minutes(3))) func aDatabaseRestartIsRiddenOut() async throws {
        let directory = Scratch.path("restart")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try EmbeddedPostgres(dataDirectory: directory, logger: TestDatabase.logger)
        _ = try server.start()
        defer { server.stop() }
        let location = server.location
        try await Hub.createDatabaseIfNeeded(at: location, logger: TestDatabase.logger)
        let simulator = AgencySimulator(.init(agency: .hotline, seed: 6, records: 60, releasePerSecond: 20))
        try await simulator.withRunning { simulator in
            let sources = "  hotline-12345: {url: \"\(simulator.baseURL!)\", token_env: SIM_TOKEN, page_size: 5, every: 200ms}"
            try await Self.withServe(at: location, sources: sources, environment: ["SIM_TOKEN": simulator.configuration.token]) {
                let started = try await Self.waitFor(30) { try await Self.workOrders(at: location) > 0 }
                #expect(started)
                try await Self.restart(server)
                let expected = Set(simulator.timeline.versions.map(\.id)).count
                let caughtUp = try await Self.waitFor(90) { try await Self.workOrders(at: location) == expected }
                #expect(caughtUp, "serve reconnects and catches up")
                let verification = try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { try await $0.audit.verify() }
                #expect(verification.firstBad == nil, "\(verification)")
            }
        }
    }
}
