import ArgumentParser
import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongSimulator
import LiandongSync
import Logging

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The hub end to end: embedded PostgreSQL, the six simulated agency systems on loopback, a sync every few seconds.",
        discussion: """
            The simulators release records a few at a time and inject faults now and then (a malformed record, \
            a page in the wrong encoding, a 503), so quarantine and recovery show. --once runs sync cycles until \
            everything is in, prints the stats and exits.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Run until every simulated record is in, print the stats, exit 0.") var once = false
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Option(help: "Seed of the simulated data.") var seed: UInt64 = 2026

    func run() async throws {
        let runtime = try Runtime(global)
        let catalog = try runtime.catalog()
        let live = once ? nil : 4.0
        let simulators = AgencySimulator.Agency.allCases.map { agency in
            var configuration = AgencySimulator.Configuration(agency: agency, seed: seed, records: agency == .weather ? 20 : 60)
            configuration.releasePerSecond = live
            return AgencySimulator(configuration)
        }
        simulators[0].faults.inject(.malformedRecord)
        simulators[1].faults.inject(.wrongEncoding)
        simulators[2].faults.inject(.serverError)
        let interval = once ? 0 : runtime.configuration.syncInterval
        let deadline = duration.map { Date().addingTimeInterval($0) }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for simulator in simulators {
                group.addTask { try await simulator.run(logger: runtime.logger) }
            }
            defer { group.cancelAll() }
            while simulators.contains(where: { $0.port == nil }) { try await Task.sleep(for: .milliseconds(20)) }
            let adapters = try simulators.map { simulator in
                try AdapterRegistry.make(
                    simulator.configuration.agency.rawValue, baseURL: simulator.baseURL!, token: simulator.configuration.token,
                    pageSize: 25, logger: runtime.logger)
            }
            print("Simulated agencies: " + simulators.map { "\($0.configuration.agency.rawValue) at \($0.baseURL!)" }.joined(separator: ", "))
            try await runtime.withHub { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger)
                var delivery = runtime.configuration.delivery
                delivery.initialBackoff = .milliseconds(500)
                let pusher = DeliveryPusher(
                    hub: engine.hub, catalog: catalog, targets: AdapterRegistry.targets(adapters, sharing: catalog.policies.sharing),
                    instance: "demo", configuration: delivery, logger: runtime.logger)
                try await withThrowingTaskGroup(of: Void.self) { pushing in
                    pushing.addTask { try await pusher.run() }
                    defer { pushing.cancelAll() }
                    var cycle = 0
                    var quiet = 0
                    while true {
                        cycle += 1
                        var total = IngestSummary()
                        var errors = 0
                        for adapter in adapters {
                            for run in try await engine.sync(adapter) {
                                total.add(run.summary)
                                if run.error != nil { errors += 1 }
                            }
                        }
                        let stats = try await hub.inspection.stats()
                        print(
                            "cycle \(cycle): +\(total.inserted) new, \(total.updated) updated, \(total.failures) quarantined"
                                + (errors > 0 ? ", \(errors) stream(s) will retry" : "")
                                + " | work orders \(stats.entities["work_order"] ?? 0), fire alarms \(stats.entities["fire_alarm"] ?? 0), "
                                + "police tickets \(stats.entities["police_ticket"] ?? 0), ambulance calls \(stats.entities["ambulance_call"] ?? 0), "
                                + "bureau reports \(stats.entities["bureau_incident"] ?? 0), instructions \(stats.entities["instruction"] ?? 0), "
                                + "resources \(stats.entities["resource"] ?? 0), "
                                + "warnings \(stats.entities["warning"] ?? 0) (\(stats.activeWarnings) active), incidents \(stats.incidents), "
                                + "open failures \(stats.failures["open"] ?? 0), "
                                + "deliveries \(Self.describe(try await hub.outbox.counts())), "
                                + "audit head \(stats.auditHead)")
                        quiet = (total.inserted + total.updated + total.failures == 0 && errors == 0) ? quiet + 1 : 0
                        // Run to the end of the loops: what was just delivered is answered (acceptances,
                        // acknowledgements, instruction replies) and the next cycle pulls the answers.
                        if once { _ = try await hub.outbox.waitForDeliveries(seconds: 20) }
                        if once, quiet >= 1 || cycle >= 50 { break }
                        if let deadline, Date() >= deadline { break }
                        try await Task.sleep(for: .seconds(max(interval, 0.05)))
                    }
                    // Let the pusher finish what is due before showing what each agency received.
                    _ = try await hub.outbox.waitForDeliveries(seconds: 20)
                    let stats = try await hub.inspection.stats()
                    try printJSON(stats)
                    print("Deliveries: \(Self.describe(try await hub.outbox.counts()))")
                    let calls = try await hub.outbox.callouts()
                    print(
                        "Call-outs (叫应) of red and orange warnings: \(calls.count), "
                            + "\(calls.filter { $0.acknowledgedAt != nil }.count) acknowledged, \(calls.filter { $0.acknowledgedAt == nil }.count) waiting")
                    let transfers = try await hub.outbox.transfers()
                    print(
                        "Transfers 12345 ↔ 110: \(transfers.count) ("
                            + Dictionary(grouping: transfers, by: \.state).sorted { $0.key < $1.key }.map { "\($1.count) \($0)" }
                            .joined(separator: ", ") + ")"
                            + (transfers.first { $0.state == "answered" }.map {
                                "; e.g. \($0.fromNumber) → 110 ticket \($0.toNumber ?? "-"): \($0.feedback ?? "")"
                            } ?? ""))
                    let receipts = try await hub.outbox.instructionReceipts()
                    print(
                        "Bureau instructions (指令): \(Set(receipts.map(\.instructionNo)).count) to \(receipts.count) addressee(s) ("
                            + Dictionary(grouping: receipts, by: \.state).sorted { $0.key < $1.key }.map { "\($1.count) \($0)" }
                            .joined(separator: ", ") + "), \(receipts.filter(\.overdue).count) overdue")
                    for simulator in simulators where !simulator.inbox.documents.isEmpty {
                        print(
                            "\(simulator.configuration.agency.rawValue) received \(simulator.inbox.documents.count) document(s) "
                                + "(\(simulator.baseURL!)/_received)")
                    }
                    print(
                        "Try: liandong incidents list · liandong incidents show <number> · liandong incidents conflicts · liandong incidents candidates · "
                            + "liandong deliveries list · liandong transfers list --overdue · liandong instructions list · liandong warnings calls · liandong errors list · liandong audit verify · liandong stats")
                }
            }
        }
    }
}

extension Demo {
    /// `police-110 3 delivered/1 pending, …`.
    static func describe(_ counts: [String: [String: Int]]) -> String {
        guard !counts.isEmpty else { return "none" }
        return counts.sorted { $0.key < $1.key }.map { target, statuses in
            "\(target) " + statuses.sorted { $0.key < $1.key }.map { "\($1) \($0)" }.joined(separator: "/")
        }.joined(separator: ", ")
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one simulated agency system on loopback until interrupted.",
        discussion: "Inject faults with: curl -X POST 'http://127.0.0.1:PORT/_faults?kind=server_error&count=3'")
    @OptionGroup var global: GlobalOptions
    @Option(help: "hotline-12345, fire-119, police-110, ambulance-120, weather or emergency-bureau.") var agency: String
    @Option var port: Int = 0
    @Option var seed: UInt64 = 1
    @Option var records: Int = 50
    @Option(help: "Release this many record versions per second instead of all at once.") var live: Double?

    func run() async throws {
        guard let kind = AgencySimulator.Agency(rawValue: agency) else {
            throw ValidationError(
                "unknown agency '\(agency)'; expected one of: \(AgencySimulator.Agency.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var configuration = AgencySimulator.Configuration(agency: kind, seed: seed, records: records, releasePerSecond: live)
        configuration.port = port
        let simulator = AgencySimulator(configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await simulator.run() }
            while simulator.port == nil { try await Task.sleep(for: .milliseconds(20)) }
            print("\(kind.rawValue) simulator at \(simulator.baseURL!) (token: \(kind == .hotline ? configuration.token : "none"))")
            try await group.next()
        }
    }
}
