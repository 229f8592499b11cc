import Foundation
import LiandongAdapterKit
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSimulator
import LiandongSync
import LiandongTestSupport
import Testing

/// The outbox and the pusher against the simulated receivers and a real PostgreSQL.
@Suite(.serialized) struct DeliveryTests {
    /// Every receiver's own record of what it got holds only fields its agreement grants, masked
    /// where the agreement says so, each delivery exactly once.
    @Test(.timeLimit(.minutes(3))) func everyReceiverGetsOnlyWhatItsAgreementGrants() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let sources = [AgencySimulator.Agency.hotline, .fire, .police, .weather, .ambulance].map {
            AgencySimulator(.init(agency: $0, seed: 7, records: $0 == .weather ? 20 : 40))
        }
        try await Self.withRunning(sources) {
            try await TestDatabase.withFreshHub { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                let receivers = sources.filter { catalog.sharingPolicy.agreements[.init($0.configuration.agency.rawValue)] != nil }
                #expect(receivers.count == 3)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: try receivers.map { try $0.makeTarget() }) {
                    for source in sources { _ = try await engine.sync(try source.makeAdapter()) }
                    #expect(try await hub.waitForDeliveries())
                }
                for receiver in receivers {
                    let system = SourceSystemID(receiver.configuration.agency.rawValue)
                    let agreement = try #require(catalog.sharingPolicy.agreements[system])
                    let delivered = try await hub.deliveries(statuses: [.delivered], target: system.rawValue, limit: 10_000)
                    #expect(!delivered.isEmpty, "\(system) got nothing")
                    #expect(try await hub.deliveries(statuses: nil, target: system.rawValue, limit: 10_000).count == delivered.count)
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
                // 12345 gets 110's non-police tickets with the caller's number masked.
                let hotline = try #require(receivers.first { $0.configuration.agency == .hotline })
                let phones = hotline.inbox.documents.filter { $0.kind == "police_ticket" }.compactMap {
                    (try? FieldValue(jsonText: $0.text))?.objectValue?["callerPhone"]?.stringValue
                }
                #expect(!phones.isEmpty)
                #expect(phones.allSatisfy { $0.wholeMatch(of: /\d{3}\*+\d{4}/) != nil }, "\(phones)")
                #expect(try await hub.verifyAudit().firstBad == nil)
            }
        }
    }

    /// A receiver answering 503 for a while gets everything once it recovers; one that never
    /// recovers ends with dead deliveries, which `retry` sends once it is back.
    @Test(.timeLimit(.minutes(3))) func failingReceiversAreRetriedAndDeadOnesRetriedByHand() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let weather = AgencySimulator(.init(agency: .weather, seed: 3, records: 10))
        let hotline = AgencySimulator(.init(agency: .hotline, seed: 3, records: 1))
        try await Self.withRunning([weather, hotline]) {
            try await TestDatabase.withFreshHub { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                // Failing for a while: 6 refusals in a row, the circuit opening in between.
                hotline.inbox.faults.inject(.serverError, count: 6)
                try await DeliveryPusher.running(
                    hub: hub, catalog: catalog, targets: [try hotline.makeTarget()],
                    configure: { $0.circuitFailures = 3; $0.circuitOpen = .milliseconds(300); $0.maxAttempts = 20 }
                ) {
                    _ = try await engine.sync(try weather.makeAdapter())
                    #expect(try await hub.waitForDeliveries(to: "hotline-12345"))
                }
                let first = try await hub.deliveries(statuses: nil, target: "hotline-12345", limit: 1000)
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
                        #expect(try await hub.waitForDeliveries(to: "hotline-12345"))
                    }
                }
                let dead = try await hub.deliveries(statuses: [.dead], target: "hotline-12345", limit: 1000)
                #expect(!dead.isEmpty)
                #expect(dead.allSatisfy { $0.attempts == 2 && ($0.lastError ?? "").contains("503") })
                let detail = try await hub.delivery(try #require(dead.first).id)
                #expect(detail.attempts.map(\.outcome) == ["failed", "failed"])
                #expect(hotline.inbox.documents.count == first.count, "nothing dead arrived")

                // Back again: retry sends them.
                hotline.inbox.faults.clear()
                let retried = try await hub.retryDeliveries(nil, statuses: [.dead])
                #expect(retried.count == dead.count)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try hotline.makeTarget()]) {
                    let done = try await hub.waitForDeliveries(to: "hotline-12345")
                    #expect(done)
                }
                let all = try await hub.deliveries(statuses: nil, target: "hotline-12345", limit: 1000)
                #expect(all.allSatisfy { $0.status == .delivered })
                #expect(hotline.inbox.documents.count == all.count)
                #expect(try await hub.verifyAudit().firstBad == nil)
            }
        }
    }

    /// An agreement past its expiry holds deliveries back with an error naming the file, the key
    /// and the fix; nothing reaches the receiver.
    @Test(.timeLimit(.minutes(2))) func anExpiredAgreementStopsDeliveries() async throws {
        let repository = Repository.mappings
        let catalog = try MappingFixture.catalog([
            "weather/cap-alert.yaml": try String(contentsOf: repository.appendingPathComponent("weather/cap-alert.yaml"), encoding: .utf8),
            "hotline-12345/outbound/warning.yaml": try String(
                contentsOf: repository.appendingPathComponent("hotline-12345/outbound/warning.yaml"), encoding: .utf8),
            "policies/sharing.yaml": """
                agreements:
                  hotline-12345:
                    version: 4
                    expires: 2020-01-01
                    kinds:
                      warning: {fields: [identifier, colour]}
                """,
        ])
        let weather = AgencySimulator(.init(agency: .weather, seed: 5, records: 5))
        let hotline = AgencySimulator(.init(agency: .hotline, seed: 5, records: 1))
        try await Self.withRunning([weather, hotline]) {
            try await TestDatabase.withFreshHub { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try hotline.makeTarget()]) {
                    _ = try await engine.sync(try weather.makeAdapter())
                    try await Task.sleep(for: .milliseconds(500))
                }
                let held = try await hub.deliveries(statuses: nil, target: "hotline-12345", limit: 100)
                #expect(!held.isEmpty && held.allSatisfy { $0.status == .expired && $0.agreementVersion == 4 })
                let error = held.first?.lastError ?? ""
                #expect(error.contains("Mappings/policies/sharing.yaml") && error.contains("expires") && error.contains("retry --expired"))
                #expect(hotline.inbox.documents.isEmpty)
            }
        }
    }

    static func withRunning(_ simulators: [AgencySimulator], _ body: () async throws -> Void) async throws {
        guard let first = simulators.first else { return try await body() }
        try await first.withRunning { _ in try await withRunning(Array(simulators.dropFirst()), body) }
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
