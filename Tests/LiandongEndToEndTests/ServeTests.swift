import AsyncHTTPClient
import Foundation
import LiandongHub
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import PostgresNIO
import Testing

/// `liandong serve` as operations run it: instances against one database, leases, faults.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct ServeTests {
    @Test func aLeaseHasOneHolderUntilItExpires() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            // Leases long enough for a loaded machine, until the last renewal shortens a's to one second.
            #expect(try await hub.streams.claimStream(source: "fire-119", stream: "alarms", holder: "a", lease: 10))
            #expect(try await !hub.streams.claimStream(source: "fire-119", stream: "alarms", holder: "b", lease: 10))
            let name = StreamStore.leaseName(source: "fire-119", stream: "alarms")
            #expect(try await !hub.streams.renewLease(name, holder: "b", lease: 10))
            #expect(try await hub.streams.renewLease(name, holder: "a", lease: 1))
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await hub.streams.claimStream(source: "fire-119", stream: "alarms", holder: "b", lease: 5))
            #expect(try await !hub.streams.renewLease(name, holder: "a", lease: 1), "a's lease expired: a must stop writing")
            #expect(try await hub.streams.statuses().first?.holder == "b")
            try await hub.streams.setPaused(source: "fire-119", stream: "alarms", true, by: ActingUser("test", reason: "pause for the test"))
            try await hub.streams.releaseLease(name, holder: "b")
            #expect(try await !hub.streams.claimStream(source: "fire-119", stream: "alarms", holder: "a", lease: 1), "paused")
        }
    }

    @Test func cronAndBackoff() throws {
        let cron = try CronExpression("*/15 8-9 * * 1-5")
        let monday = try #require(ISO8601DateFormatter().date(from: "2026-11-23T00:07:00Z"))  // 08:07 in Shanghai
        #expect(cron.next(after: monday) == ISO8601DateFormatter().date(from: "2026-11-23T00:15:00Z"))
        let friday = try #require(ISO8601DateFormatter().date(from: "2026-11-27T01:50:00Z"))  // 09:50 Friday
        #expect(cron.next(after: friday) == ISO8601DateFormatter().date(from: "2026-11-30T00:00:00Z"), "Monday 08:00")
        #expect(throws: CronExpression.CronError.self) { try CronExpression("61 * * * *") }
        let every = Schedule(.every(10))
        let now = Date()
        #expect(every.next(after: now) == now.addingTimeInterval(10))
        #expect(every.next(after: now, failures: 3) == now.addingTimeInterval(80))
        #expect(every.next(after: now, failures: 30) == now.addingTimeInterval(600), "capped")
    }

    /// Two instances on one database; the first killed with -9 mid-run. The second finishes the work:
    /// every record arrives once, every delivery reaches its receiver once, the chain verifies, and
    /// the digest equals a single clean instance's.
    @Test(.timeLimit(.minutes(5))) func twoInstancesAndOneKilledEqualsACleanRun() async throws {
        let hotline = AgencySimulator(.init(agency: .hotline, seed: 11, records: 400))
        let fire = AgencySimulator(.init(agency: .fire, seed: 11, records: 200))
        try await hotline.withRunning { hotline in
            try await fire.withRunning { fire in
                let catalog = try MappingFixture.repositoryCatalog()
                let clean = try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                    let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                    _ = try await engine.sync(try hotline.makeAdapter(pageSize: 10))
                    _ = try await engine.sync(try fire.makeAdapter(pageSize: 10))
                    return try await hub.inspection.stats()
                }
                let location = try await TestDatabase.makeFreshDatabase()
                // Port 0: each instance listens where the system puts it and prints the port.
                let config = Scratch.path("serve", extension: "yaml")
                try """
                    serve: {listen: "127.0.0.1:0", lease_seconds: 2}
                    sources:
                      hotline-12345: {url: "\(hotline.baseURL!)", token_env: SIM_TOKEN, page_size: 10, every: 1s}
                      fire-119: {url: "\(fire.baseURL!)", page_size: 10, every: 1s}
                    """.write(to: config, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: config) }
                let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url, "SIM_TOKEN": hotline.configuration.token])
                let first = try cli.start(["serve", "--config", config.path, "--instance", "first"])
                let second = try cli.start(["serve", "--config", config.path, "--instance", "second"])
                let port = try await CommandLineRunner.listeningPort(in: second.stdout)
                try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
                    // Kill the first once it has committed some pages (or after a while, should it be done).
                    _ = try? await eventually("the first instance holds a stream with pages in", within: .seconds(12), poll: .milliseconds(20)) {
                        guard try await hub.streams.statuses().contains(where: { $0.holder == "first" }) else { return false }
                        return try await hub.inspection.stats().rawPayloads > 6
                    }
                    kill(first.pid, SIGKILL)
                    _ = try await first.output.value
                    // The second takes over within twice the lease and finishes (given two minutes on a loaded machine).
                    let stats = try await eventually("the second instance reaches a clean run's digest", within: .seconds(120)) {
                        let stats = try await hub.inspection.stats()
                        return stats.digest == clean.digest ? stats : nil
                    }
                    #expect(stats.entities == clean.entities)
                    #expect(try await hub.audit.verify().firstBad == nil)
                    // Each entity inserted once in the audit: no batch applied twice.
                    let inserts = try await OutsideSQL(location).integer("SELECT count(*)::int FROM audit_entry WHERE action = 'insert'")
                    #expect(inserts == clean.entities.values.reduce(0, +))
                    let streams = try await hub.streams.statuses()
                    #expect(streams.count == 4, "12345 work orders; 119 alarms, acknowledgements and instruction replies")
                    #expect(streams.allSatisfy { $0.lastHolder == "second" || $0.lastHolder == "first" })
                    #expect(streams.contains { $0.lastHolder == "second" })
                    // 119 is a receiver too: every delivery owed to it arrives exactly once, though the
                    // first instance died with deliveries in flight.
                    #expect(try await hub.outbox.waitForDeliveries(to: "fire-119", seconds: 60))
                    let delivered = try await hub.outbox.deliveries(statuses: nil, target: "fire-119", limit: 10_000)
                    #expect(!delivered.isEmpty && delivered.allSatisfy { $0.status == .delivered })
                    #expect(fire.inbox.documents.count == delivered.count)
                    #expect(Set(fire.inbox.documents.map(\.idempotencyKey)).count == delivered.count)
                    // The operations endpoints answer.
                    let client = HTTPClient(eventLoopGroupProvider: .singleton)
                    defer { _ = client.shutdown() }
                    let ready = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(5))
                    #expect(ready.status == .ok)
                    let metrics = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(5))
                    let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
                    #expect(text.contains("liandong_records_pulled_total"))
                    #expect(text.contains("liandong_batch_duration_seconds"))
                    #expect(text.contains("liandong_deliveries_total"))
                }
                kill(second.pid, SIGTERM)
                let stopped = try await second.output.value
                #expect(stopped.status == 0 && !stopped.killedBySignal, "a graceful stop: \(stopped.stderr)")
            }
        }
    }
}
