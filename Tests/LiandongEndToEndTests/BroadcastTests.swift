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

/// The emergency broadcast platform: a receiver whose agreement requires approval. The weather
/// office's red and orange warnings wait for an operator; one approved goes out as CAP 1.2, one
/// refused never does, and both answers are in the audit chain with who and why.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct BroadcastTests {
    @Test(.timeLimit(.minutes(2))) func warningsWaitForApprovalAndOnlyTheApprovedOneIsBroadcast() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        try await FolderSimulator.withRunning(["weather", "broadcast"], catalog: catalog) { simulators in
            let broadcast = simulators[1]
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                let runs = try await engine.sync(try simulators[0].makeAdapter())
                #expect(runs.allSatisfy { $0.error == nil })
                let platform = try #require(try broadcast.makeAdapter().receiver)
                // The red warning of 310101 and the orange one of 130132 wait; the yellow ones are not the platform's.
                let waiting = try await hub.outbox.deliveries(statuses: nil, target: "broadcast")
                #expect(waiting.count == 2 && waiting.allSatisfy { $0.status == .awaitingApproval }, "\(waiting.map(\.status))")
                let colours = Set(waiting.compactMap { $0.payload["colour"]?.stringValue })
                #expect(colours == ["red", "orange"])
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [platform]) {
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(broadcast.received.isEmpty, "nothing is broadcast on the hub's word alone")
                    let red = try #require(waiting.first { $0.payload["colour"]?.stringValue == "red" })
                    let orange = try #require(waiting.first { $0.payload["colour"]?.stringValue == "orange" })
                    let approved = try await hub.outbox.decide([red.id], .approve, by: ActingUser("值班员李", reason: "核实无误，同意播发"))
                    #expect(approved.map(\.status) == [.pending])
                    let refused = try await hub.outbox.decide([orange.id, red.id], .refuse, by: ActingUser("值班员李", reason: "已过期"))
                    #expect(refused.map(\.id) == [orange.id], "only what still awaits approval is answered")
                    try await eventually("the approved warning is broadcast", within: .seconds(20)) {
                        try await hub.outbox.delivery(red.id).delivery.status == .delivered
                    }
                    let documents = broadcast.received
                    #expect(documents.count == 1)
                    let alert = try #require(documents.first)
                    #expect(alert.text.contains("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"))
                    #expect(alert.text.contains("<identifier>\(red.payload["identifier"]?.stringValue ?? "?")</identifier>"))
                    #expect(alert.text.contains("+08:00</sent>"), "CAP times carry their offset")
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(try await hub.outbox.delivery(orange.id).delivery.status == .refused)
                    #expect(broadcast.received.count == 1, "the refused warning never goes")
                }
                // Both answers in the chain, with who and why; a refused delivery is not retried.
                let decisions = try await hub.audit.decisions(limit: 10)
                let approve = try #require(decisions.first { $0.action == "delivery.approve" })
                #expect(approve.content.objectValue?["by"]?.stringValue == "值班员李")
                #expect(approve.content.objectValue?["reason"]?.stringValue == "核实无误，同意播发")
                #expect(decisions.contains { $0.action == "delivery.refuse" && $0.content.objectValue?["reason"]?.stringValue == "已过期" })
                let retried = try await hub.outbox.retry(nil, statuses: [.dead, .expired], by: ActingUser("admin", reason: "retry all"))
                #expect(retried.isEmpty)
                // A broadcast that died (or was held back by an expired agreement) and is retried waits for
                // approval again: a retry never sends it on the hub's word alone.
                let sent = try #require(try await hub.outbox.deliveries(statuses: [.delivered], target: "broadcast").first)
                try await hub.outbox.record(.rejected(error: "the platform refused it"), of: sent)
                let again = try await hub.outbox.retry([sent.id], statuses: [.dead], by: ActingUser("admin", reason: "once more"))
                #expect(again.map(\.status) == [.awaitingApproval])
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }

    /// The command line stores a declared kind's records (the platform's 播发记录): `sync` makes the
    /// kind's table before it writes (it once wrote only into tables `migrate` had made).
    @Test func theCommandLineSyncsTheBroadcastReportsOfADeclaredKind() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        try await FolderSimulator.withRunning(["broadcast"], catalog: catalog) { simulators in
            let location = try await TestDatabase.makeFreshDatabase()
            let config = Scratch.path("config", extension: "yaml")
            try "sources:\n  broadcast: {url: \"\(simulators[0].baseURL!)\", token_env: SIM_TOKEN}\n".write(to: config, atomically: true, encoding: .utf8)
            let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url, "SIM_TOKEN": "t"])
            let run = try await cli.run(["sync", "--once", "--config", config.path])
            #expect(run.status == 0, "\(run.stderr)")
            let stats = try await cli.run(["stats", "--json"])
            #expect(stats.stdout.contains("\"broadcast_report\" : 2") || stats.stdout.contains("\"broadcast_report\":2"), "\(stats.stdout)")
        }
    }
}
