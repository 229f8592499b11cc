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

/// The outbox and the pusher against the simulated receivers and a real PostgreSQL.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct DeliveryTests {
    /// Every receiver's own record of what it got holds only fields its agreement grants, masked
    /// where the agreement says so, each delivery exactly once.
    @Test(.timeLimit(.minutes(3))) func everyReceiverGetsOnlyWhatItsAgreementGrants() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let sources = [AgencySimulator.Agency.hotline, .fire, .police, .weather, .ambulance, .bureau].map {
            AgencySimulator(.init(agency: $0, seed: 7, records: $0 == .weather ? 20 : 40))
        }
        try await AgencySimulator.withRunning(all: sources) {
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                let receivers = sources.filter { catalog.policies.sharing.agreements[.init($0.configuration.agency.rawValue)] != nil }
                #expect(receivers.count == 4)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: try receivers.map { try $0.makeTarget() }) {
                    for source in sources { _ = try await engine.sync(try source.makeAdapter()) }
                    // Receivers fail some attempts on purpose; retries back off, and under the whole
                    // suite on two cores the last can come well after 30 s.
                    for receiver in receivers {
                        #expect(try await hub.outbox.waitForDeliveries(to: receiver.configuration.agency.rawValue, seconds: 90))
                    }
                }
                for receiver in receivers {
                    let system = SourceSystemID(receiver.configuration.agency.rawValue)
                    let agreement = try #require(catalog.policies.sharing.agreements[system])
                    let delivered = try await hub.outbox.deliveries(statuses: [.delivered], target: system.rawValue, limit: 10_000)
                    #expect(!delivered.isEmpty, "\(system) got nothing")
                    #expect(try await hub.outbox.deliveries(statuses: nil, target: system.rawValue, limit: 10_000).count == delivered.count)
                    // Exactly once: one document per delivery, none repeated.
                    #expect(receiver.inbox.documents.count == delivered.count)
                    #expect(Set(receiver.inbox.documents.map(\.idempotencyKey)) == Set(delivered.map(\.idempotencyKey)))
                    for document in receiver.inbox.documents {
                        let mapping = try #require(catalog.outboundMapping(target: system, kind: EntityKind(rawValue: document.kind)))
                        let grant = try #require(agreement.grants[EntityKind(rawValue: document.kind)])
                        for native in try Self.nativeFields(document) {
                            let from = try #require(mapping.spec.fields[native]?.from, "\(system) got '\(native)', which no mapping writes")
                            #expect(
                                from.hasPrefix("$") || grant.fields.contains { from == $0 || from.hasPrefix($0 + ".") },
                                "\(system) got \(native) from \(from), which its agreement does not grant")
                        }
                    }
                }
                // 12345 gets 110's non-police tickets as transfers, with the caller's number masked.
                let hotline = try #require(receivers.first { $0.configuration.agency == .hotline })
                let phones = hotline.inbox.documents.filter { $0.kind == "transfer" }.compactMap {
                    (try? FieldValue(jsonText: $0.text))?.objectValue?["callerPhone"]?.stringValue
                }
                #expect(!phones.isEmpty)
                #expect(phones.allSatisfy { $0.wholeMatch(of: /\d{3}\*+\d{4}/) != nil }, "\(phones)")
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }

    /// A receiver answering 503 for a while gets everything once it recovers; one that never
    /// recovers ends with dead deliveries, which `retry` sends once it is back.
    @Test(.timeLimit(.minutes(3))) func failingReceiversAreRetriedAndDeadOnesRetriedByHand() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let weather = AgencySimulator(.init(agency: .weather, seed: 3, records: 10))
        let hotline = AgencySimulator(.init(agency: .hotline, seed: 3, records: 1))
        try await AgencySimulator.withRunning(all: [weather, hotline]) {
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                // Failing for a while: 6 refusals in a row, the circuit opening in between.
                hotline.inbox.faults.inject(.serverError, count: 6)
                try await DeliveryPusher.running(
                    hub: hub, catalog: catalog, targets: [try hotline.makeTarget()],
                    configure: { $0.circuitFailures = 3; $0.circuitOpen = .milliseconds(300); $0.maxAttempts = 20 }
                ) {
                    _ = try await engine.sync(try weather.makeAdapter())
                    #expect(try await hub.outbox.waitForDeliveries(to: "hotline-12345"))
                }
                let first = try await hub.outbox.deliveries(statuses: nil, target: "hotline-12345", limit: 1000)
                #expect(!first.isEmpty && first.allSatisfy { $0.status == .delivered })
                #expect(first.contains { $0.attempts > 1 }, "the 503s were retried")
                #expect(hotline.inbox.documents.count == first.count)
                #expect(hotline.inbox.faults.remaining == 0)

                // Never recovering: two attempts each, then dead (110's non-police tickets, this time).
                hotline.inbox.faults.inject(.serverError, count: 10_000)
                let more = AgencySimulator(.init(agency: .police, seed: 4, records: 40))
                try await more.withRunning { more in
                    try await DeliveryPusher.running(
                        hub: hub, catalog: catalog, targets: [try hotline.makeTarget()], configure: { $0.maxAttempts = 2 }
                    ) {
                        _ = try await engine.sync(try more.makeAdapter())
                        #expect(try await hub.outbox.waitForDeliveries(to: "hotline-12345"))
                    }
                }
                let dead = try await hub.outbox.deliveries(statuses: [.dead], target: "hotline-12345", limit: 1000)
                #expect(!dead.isEmpty)
                #expect(dead.allSatisfy { $0.attempts == 2 && ($0.lastError ?? "").contains("503") })
                let detail = try await hub.outbox.delivery(try #require(dead.first).id)
                #expect(detail.attempts.map(\.outcome) == ["failed", "failed"])
                #expect(hotline.inbox.documents.count == first.count, "nothing dead arrived")

                // Back again: retry sends them.
                hotline.inbox.faults.clear()
                let retried = try await hub.outbox.retry(nil, statuses: [.dead], by: ActingUser("test", reason: "retry after the fix"))
                #expect(retried.count == dead.count)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try hotline.makeTarget()]) {
                    let done = try await hub.outbox.waitForDeliveries(to: "hotline-12345")
                    #expect(done)
                }
                let all = try await hub.outbox.deliveries(statuses: nil, target: "hotline-12345", limit: 1000)
                #expect(all.allSatisfy { $0.status == .delivered })
                #expect(hotline.inbox.documents.count == all.count)
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }

    /// A receiver's refusal keeps its answer with the attempt, for an admin to read, and out of
    /// `last_error`, the error's description and the append-only audit chain: an agency's answer can
    /// carry anything. (Before, the answer's text was in all three.)
    @Test(.timeLimit(.minutes(2))) func aRefusalsAnswerStaysWithTheAttempt() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let weather = AgencySimulator(.init(agency: .weather, seed: 6, records: 3))
        let hotline = AgencySimulator(.init(agency: .hotline, seed: 6, records: 1))
        try await AgencySimulator.withRunning(all: [weather, hotline]) {
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                hotline.inbox.faults.inject(.malformedRecord, count: 10_000)
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try hotline.makeTarget()]) {
                    _ = try await engine.sync(try weather.makeAdapter())
                    #expect(try await hub.outbox.waitForDeliveries(to: "hotline-12345"))
                }
                let dead = try await hub.outbox.deliveries(statuses: [.dead], target: "hotline-12345", limit: 100)
                #expect(!dead.isEmpty)
                for delivery in dead {
                    let error = delivery.lastError ?? ""
                    #expect(error.contains("HTTP 400") && !error.contains("simulated refusal"), "\(error)")
                    let attempt = try #require(try await hub.outbox.delivery(delivery.id).attempts.first)
                    #expect(attempt.outcome == "rejected" && attempt.answer?.contains("simulated refusal") == true)
                    #expect(attempt.answerContentType?.contains("json") == true)
                    let trail = try await hub.audit.trail(of: "\(delivery.id)")
                    #expect(!trail.isEmpty && !trail.contains { "\($0)".contains("simulated refusal") })
                }
            }
        }
    }

    /// An agreement past its expiry holds deliveries back with an error naming the file, the key
    /// and the fix; nothing reaches the receiver. For every receiver.
    @Test(.timeLimit(.minutes(2)), arguments: [AgencySimulator.Agency.hotline, .police, .fire, .bureau])
    func anExpiredAgreementStopsDeliveries(receiver agency: AgencySimulator.Agency) async throws {
        let repository = Repository.mappings
        let receiver = agency.rawValue
        let catalog = try MappingFixture.catalog([
            "weather/cap-alert.yaml": try String(contentsOf: repository.appendingPathComponent("weather/cap-alert.yaml"), encoding: .utf8),
            "\(receiver)/outbound/warning.yaml": """
                version: 1
                target: \(receiver)
                entity: warning
                document: {format: json}
                fields:
                  id: {from: identifier}
                  colour: {from: colour}
                """,
            "policies/sharing.yaml": """
                agreements:
                  \(receiver):
                    version: 4
                    expires: 2020-01-01
                    kinds:
                      warning: {fields: [identifier, colour]}
                """,
        ])
        let weather = AgencySimulator(.init(agency: .weather, seed: 5, records: 5))
        let target = AgencySimulator(.init(agency: agency, seed: 5, records: 1))
        try await AgencySimulator.withRunning(all: [weather, target]) {
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try target.makeTarget()]) {
                    _ = try await engine.sync(try weather.makeAdapter())
                    try await Task.sleep(for: .milliseconds(500))
                }
                let held = try await hub.outbox.deliveries(statuses: nil, target: receiver, limit: 100)
                #expect(!held.isEmpty && held.allSatisfy { $0.status == .expired && $0.agreementVersion == 4 })
                let error = held.first?.lastError ?? ""
                #expect(error.contains("Mappings/policies/sharing.yaml") && error.contains("expires") && error.contains("retry --expired"))
                #expect(target.inbox.documents.isEmpty)
            }
        }
    }

    /// A red warning goes to 119 (red and orange only); its update, now yellow, and its cancel
    /// reach 119 too, because 119 holds the warning they change. 12345 gets every one anyway.
    @Test(.timeLimit(.minutes(2))) func updatesAndCancelsReachEveryReceiverOfTheWarningTheySupersede() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let fire = AgencySimulator(.init(agency: .fire, seed: 1, records: 1))
        let folder = Scratch.path("cap")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func cap(_ id: String, _ type: String, _ severity: String, references: String? = nil) throws -> URL {
            let url = folder.appendingPathComponent("\(id).xml")
            try """
                <?xml version="1.0" encoding="UTF-8"?>
                <alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
                  <identifier>\(id)</identifier><sender>32010241600000</sender><sent>2026-11-24T08:0\(id.suffix(1)):00+08:00</sent>
                  <status>Actual</status><msgType>\(type)</msgType><scope>Public</scope>
                  \(references.map { "<references>32010241600000,\($0),2026-11-24T08:01:00+08:00</references>" } ?? "")
                  <info><category>Met</category><event>暴雨</event><urgency>Immediate</urgency><severity>\(severity)</severity>
                    <certainty>Likely</certainty><headline>暴雨预警</headline>
                    <area><areaDesc>玄武区</areaDesc><geocode><valueName>GB/T 2260</valueName><value>320102</value></geocode></area></info>
                </alert>
                """.write(to: url, atomically: true, encoding: .utf8)
            return url
        }
        try await fire.withRunning { fire in
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                let weather = try AdapterCatalog.repository().definition("weather")
                try await DeliveryPusher.running(hub: engine.hub, catalog: catalog, targets: [try fire.makeTarget()]) {
                    _ = try await engine.ingestFiles([try cap("W1", "Alert", "Extreme")], from: weather)
                    _ = try await engine.ingestFiles([try cap("W2", "Update", "Moderate", references: "W1")], from: weather)
                    _ = try await engine.ingestFiles([try cap("W3", "Cancel", "Moderate", references: "W2")], from: weather)
                    _ = try await engine.ingestFiles([try cap("W4", "Alert", "Moderate")], from: weather)
                    #expect(try await engine.hub.outbox.waitForDeliveries(to: "fire-119"))
                }
                let received = fire.inbox.documents.filter { $0.kind == "warning" }.map(\.text)
                #expect(received.count == 3, "W1 (red), its update W2 and its cancel W3; not the unrelated yellow W4")
                for id in ["W1", "W2", "W3"] { #expect(received.contains { $0.contains("<YJBH>\(id)</YJBH>") }) }
            }
        }
    }

    /// Each red or orange warning delivered to 119 calls its two responsible posts; 119's duty
    /// commander acknowledges through 119's platform, the other post does not and stays open.
    @Test(.timeLimit(.minutes(2))) func severeWarningsAreCalledOutAndAcknowledgementsComeBack() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let weather = AgencySimulator(.init(agency: .weather, seed: 8, records: 20))
        let fire = AgencySimulator(.init(agency: .fire, seed: 8, records: 1))
        try await AgencySimulator.withRunning(all: [weather, fire]) {
            let location = try await TestDatabase.makeFreshDatabase()
            try await Hub.withHub(at: location, policies: catalog.policies, logger: TestDatabase.logger) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                try await DeliveryPusher.running(hub: engine.hub, catalog: catalog, targets: [try fire.makeTarget()]) {
                    _ = try await engine.sync(try weather.makeAdapter())
                    #expect(try await engine.hub.outbox.waitForDeliveries(to: "fire-119"))
                }
                _ = try await engine.sync(try fire.makeAdapter())
                let calls = try await engine.hub.outbox.callouts()
                let severe = fire.inbox.documents.filter { $0.kind == "warning" && ($0.text.contains("红色") || $0.text.contains("橙色")) }
                let warnings = Set(severe.compactMap { $0.text.firstMatch(of: /<YJBH>([^<]+)<\/YJBH>/).map { String($0.output.1) } })
                #expect(!warnings.isEmpty)
                #expect(Set(calls.map(\.warningID)) == warnings)
                #expect(calls.count == warnings.count * 2, "two posts called per warning")
                #expect(calls.filter { $0.person == SimulatedInbox.acknowledgingPost }.allSatisfy { $0.acknowledgedAt != nil })
                let open = try await engine.hub.outbox.callouts(unacknowledgedOnly: true)
                #expect(open.count == warnings.count && open.allSatisfy { $0.person == "作战训练科值班员" })
                #expect(try await engine.hub.audit.verify().firstBad == nil)
            }
            let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url])
            let listed = try await cli.run(["warnings", "calls", "--unacknowledged", "--json"])
            #expect(listed.status == 0, "\(listed.stderr)")
            let rows = try #require(try FieldValue(jsonText: listed.stdout).arrayValue)
            #expect(!rows.isEmpty && rows.allSatisfy { $0.objectValue?["acknowledgedAt"] == nil })
            // What went to 119, and one delivery as sent: the GBK XML document, its receipt and attempt.
            let deliveries = try await cli.run(["deliveries", "list", "--target", "fire-119", "--json"])
            let delivered = try #require(try FieldValue(jsonText: deliveries.stdout).arrayValue)
            #expect(delivered.count == fire.inbox.documents.count)
            let id = try #require(delivered.first?.objectValue?["id"]?.scalarText)
            let shown = try await cli.run(["deliveries", "show", id])
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains("to fire-119: delivered") && shown.stdout.contains("119-R"))
            #expect(shown.stdout.contains("application/xml; charset=GBK") && shown.stdout.contains("attempt 1"))
            // The GBK document reads as the Chinese 119 received, not as mojibake.
            let key = try #require(delivered.first?.objectValue?["idempotencyKey"]?.scalarText)
            let received = try #require(fire.inbox.documents.first { $0.idempotencyKey == key })
            #expect(shown.stdout.contains(received.text) && !shown.stdout.contains("\u{FFFD}"))
        }
    }

    /// The native field paths of a received document: dotted JSON leaf paths, or XML element names below the root.
    static func nativeFields(_ document: SimulatedInbox.Received) throws -> [String] {
        if document.contentType.contains("json") {
            func leaves(_ value: FieldValue, _ prefix: String) -> [String] {
                switch value {
                case .object(let object): return object.flatMap { leaves($1, prefix.isEmpty ? $0 : "\(prefix).\($0)") }
                case .array(let items): return items.flatMap { leaves($0, prefix) } + (items.isEmpty ? [prefix] : [])
                default: return [prefix]
                }
            }
            return leaves(try FieldValue(jsonText: document.text), "")
        }
        let names = document.text.matches(of: /<([A-Za-z]+)>/).map { String($0.output.1) }
        return Array(Set(names.dropFirst()))
    }
}
