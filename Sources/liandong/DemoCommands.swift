import ArgumentParser
import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongServer
import LiandongSimulator
import LiandongSync
import Logging
import ServiceLifecycle

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The hub end to end: embedded PostgreSQL, the six simulated agency systems on loopback, a sync every few seconds.",
        discussion: """
            The simulators release records a few at a time and inject faults now and then (a malformed record, \
            a page in the wrong encoding, a 503, a table row with no key), so quarantine and recovery show. --once runs until everything \
            is in, prints the stats and exits.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Run until every simulated record is in, print the stats, exit 0.") var once = false
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Option(help: "Seed of the simulated data.") var seed: UInt64 = 2026
    @Option(help: "host:port of the console (default: serve.listen, else 127.0.0.1:9464; port 0 picks a free one).") var listen: String?

    func run() async throws {
        let runtime = try Runtime(global)
        let catalog = try runtime.catalog()
        let simulators = AgencySimulator.Agency.allCases.map { agency in
            var configuration = AgencySimulator.Configuration(agency: agency, seed: seed, records: agency == .weather ? 20 : 60)
            configuration.releasePerSecond = once ? nil : 4
            return AgencySimulator(configuration)
        }
        // Every other agency folder with samples is served from them, as `liandong simulate` would.
        let agencies = try runtime.adapters()
        var folderSimulators: [FolderSimulator] = []
        for definition in agencies.definitions where definition.transport == .http && AgencySimulator.Agency(rawValue: definition.system.rawValue) == nil {
            do {
                folderSimulators.append(try FolderSimulator(definition: definition, catalog: catalog, releasePerSecond: once ? nil : 2))
            } catch {
                print("Left out of the demo: \(error)")
            }
        }
        // Agency folders read from a database are served as tables in a database of the demo's server.
        let databaseFolders = agencies.definitions.filter { $0.transport == .database }
        let databaseServer = try runtime.databaseLocation()
        simulators[0].faults.inject(.malformedRecord)
        simulators[1].faults.inject(.wrongEncoding)
        simulators[2].faults.inject(.serverError)
        var delivery = runtime.configuration.delivery
        delivery.initialBackoff = .milliseconds(500)
        let deadline = duration.map { Date().addingTimeInterval($0) }
        let (host, port) = try runtime.listenAddress(listen)
        let registry = OperationsServer.bootstrapMetrics()
        try await runtime.runServices { hub in
            let jobs = JobRunner(hub: hub, engine: SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger), logger: runtime.logger)
            let server = HubHTTPService(
                hub: hub, catalog: catalog, jobs: jobs, registry: registry,
                configuration: .init(host: host, port: port, makeFirstAdmin: true), logger: runtime.logger,
                onBound: { port, admin in
                    print("Console: http://\(host):\(port)/")
                    if let admin {
                        print("  first admin (shown once, keep it): user \(admin.name), password \(admin.password)")
                    } else {
                        print("  sign in with the users of this data directory ('liandong users list')")
                    }
                    fflush(nil)
                })
            let tour = DemoTour(
                hub: hub, catalog: catalog, agencies: agencies, simulators: simulators, folderSimulators: folderSimulators,
                databaseFolders: databaseFolders, databaseServer: databaseServer, once: once, deadline: deadline,
                pace: once ? 0.2 : runtime.configuration.syncInterval, delivery: delivery, logger: runtime.logger)
            return simulators.map { .init(service: $0) } + folderSimulators.map { .init(service: $0) } + [
                .init(service: jobs), .init(service: server), .init(service: tour, successTerminationBehavior: .gracefullyShutdownGroup),
            ]
        }
    }
}

/// The demo's own part of its service group. Once the simulators listen, it runs the scheduler and
/// the pusher against them, as `serve` would (a service group of their own, inside the demo's), prints
/// where things stand every few seconds, and ends the demo when everything is in (`--once`) or its
/// time is up (`--duration`), with a summary of what each loop did.
struct DemoTour: Service {
    let hub: Hub
    let catalog: MappingCatalog
    let agencies: AdapterCatalog
    let simulators: [AgencySimulator]
    /// The agency folders served from their samples.
    let folderSimulators: [FolderSimulator]
    /// The agency folders read from a database, and the server their samples' databases are made on.
    let databaseFolders: [AdapterDefinition]
    let databaseServer: DatabaseLocation
    let once: Bool
    let deadline: Date?
    /// Seconds between two syncs of a stream.
    let pace: Double
    let delivery: DeliveryPusher.Configuration
    let logger: Logger

    func run() async throws {
        let clock = ContinuousClock()
        let listening = clock.now + .seconds(30)
        while simulators.contains(where: { $0.port == nil }) || folderSimulators.contains(where: { $0.baseURL == nil }) {
            guard clock.now < listening else { throw CouldNotRun("the simulated agencies did not start listening within 30 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let adapters = try simulators.map { simulator in
            try agencies.make(
                simulator.configuration.agency.rawValue, baseURL: simulator.baseURL!, token: simulator.configuration.token,
                pageSize: 25, logger: logger)
        } + folderSimulators.map { try agencies.make($0.definition.system.rawValue, baseURL: $0.baseURL!, token: "demo", pageSize: 25, logger: logger) }
            + (try await databaseSimulators())
        print(
            "Simulated agencies: "
                + (simulators.map { "\($0.configuration.agency.rawValue) at \($0.baseURL!)" }
                    + folderSimulators.map { "\($0.definition.system) at \($0.baseURL!) (from its samples)" }
                    + databaseFolders.map { "\($0.system) in database \(Self.databaseName(of: $0)) (from its samples)" }).joined(separator: ", "))
        let engine = SyncEngine(hub: hub, catalog: catalog, logger: logger)
        let scheduler = StreamScheduler(
            engine: engine, jobs: adapters.map { StreamScheduler.Job(adapter: $0, schedule: Schedule(.every(pace))) }, instance: "demo",
            leaseSeconds: 30, pollInterval: .milliseconds(100))
        let pusher = DeliveryPusher(
            hub: hub, catalog: catalog, targets: AdapterCatalog.targets(adapters, sharing: hub.policies.sharing), instance: "demo",
            configuration: delivery, logger: logger)
        let pipeline = ServiceGroup(services: [scheduler, pusher], gracefulShutdownSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await pipeline.run() }
            // Until everything is in, the time is up, or the demo is asked to stop (the pipeline then stops too).
            do {
                try await cancelWhenGracefulShutdown { try await watch(hub, streams: adapters.reduce(0) { $0 + $1.streams.count }) }
            } catch is CancellationError {
            } catch {
                await pipeline.triggerGracefulShutdown()
                throw error
            }
            await pipeline.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await summarize(hub)
    }

    /// The database of a folder read from a database, on the demo's server.
    static func databaseName(of definition: AdapterDefinition) -> String {
        "liandong_sim_" + definition.system.rawValue.replacingOccurrences(of: "-", with: "_")
    }

    /// Makes each database folder's tables from its samples in a database of its own, with one row
    /// of its first table spoiled, and returns the adapters that read them.
    private func databaseSimulators() async throws -> [any SourceAdapter] {
        var adapters: [any SourceAdapter] = []
        for definition in databaseFolders {
            let database = databaseServer.with(database: Self.databaseName(of: definition))
            try await Hub.createDatabaseIfNeeded(at: database, logger: logger)
            try await DatabaseSamples.load(definition, into: database.connectionConfiguration, logger: logger)
            // A row the agency's side left half-written, for the hub to quarantine.
            if let first = definition.streams.first {
                try await DatabaseSamples.spoil(definition, stream: first, in: database.connectionConfiguration, logger: logger)
            }
            adapters.append(try agencies.make(definition.system.rawValue, baseURL: database.url, token: "demo", pageSize: 100, logger: logger))
        }
        return adapters
    }

    /// Prints where things stand every few seconds; returns when everything is in (`once`: the
    /// content has not changed over a round in which every stream ran, and nothing waits to be
    /// delivered) or at the deadline.
    private func watch(_ hub: Hub, streams: Int) async throws {
        let started = Date()
        var mark = (at: Date(), digest: "")
        var lastLine = Date.distantPast
        while true {
            try await Task.sleep(for: .milliseconds(500))
            let stats = try await hub.inspection.stats()
            var done = deadline.map { Date() >= $0 } ?? false
            if once, !done {
                let runs = try await hub.streams.statuses()
                let pending = !(try await hub.outbox.deliveries(statuses: [.pending], target: nil, limit: 1).isEmpty)
                if stats.digest != mark.digest || pending {
                    mark = (Date(), stats.digest)
                } else {
                    done = runs.count == streams && runs.allSatisfy { ($0.lastRun ?? .distantPast) > mark.at }
                }
            }
            if done || Date().timeIntervalSince(lastLine) >= max(pace, 2) {
                print(try await line(stats, hub))
                lastLine = Date()
            }
            if done { return }
            if once, Date().timeIntervalSince(started) > 300 { throw CouldNotRun("the demo did not settle within 5 minutes") }
        }
    }

    private func line(_ stats: Inspection.Stats, _ hub: Hub) async throws -> String {
        let entities = stats.entities
        return "\(Date().canonicalText) | work orders \(entities["work_order"] ?? 0), fire alarms \(entities["fire_alarm"] ?? 0), "
            + "police tickets \(entities["police_ticket"] ?? 0), ambulance calls \(entities["ambulance_call"] ?? 0), "
            + "bureau reports \(entities["bureau_incident"] ?? 0), instructions \(entities["instruction"] ?? 0), "
            + "resources \(entities["resource"] ?? 0), "
            + "warnings \(entities["warning"] ?? 0) (\(stats.activeWarnings) active), incidents \(stats.incidents), "
            + "open failures \(stats.failures["open"] ?? 0), "
            + "deliveries \(Demo.describe(try await hub.outbox.counts())), "
            + "audit head \(stats.auditHead)"
    }

    private func summarize(_ hub: Hub) async throws {
        try printJSON(try await hub.inspection.stats())
        print("Deliveries: \(Demo.describe(try await hub.outbox.counts()))")
        let calls = try await hub.outbox.callouts()
        print(
            "Call-outs (叫应) of red and orange warnings: \(calls.count), "
                + "\(calls.filter { $0.acknowledgedAt != nil }.count) acknowledged, \(calls.filter { $0.acknowledgedAt == nil }.count) waiting")
        let awaiting = try await hub.outbox.deliveries(statuses: [.awaitingApproval], target: nil)
        if !awaiting.isEmpty {
            print(
                "Awaiting an operator's approval (the hub never broadcasts on its own): \(awaiting.count) "
                    + "(\(Set(awaiting.map(\.target)).sorted().joined(separator: ", "))); "
                    + "liandong deliveries approve|refuse <id> --reason …, or the console's delivery page")
        }
        let transfers = try await hub.outbox.transfers()
        print(
            "Transfers 12345 ↔ 110: \(transfers.count) ("
                + Dictionary(grouping: transfers, by: \.state).sorted { $0.key < $1.key }.map { "\($1.count) \($0)" }.joined(separator: ", ")
                + ")"
                + (transfers.first { $0.state == "answered" }.map {
                    "; e.g. \($0.fromNumber) → 110 ticket \($0.toNumber ?? "-"): \($0.feedback ?? "")"
                } ?? ""))
        let receipts = try await hub.outbox.instructionReceipts()
        print(
            "Bureau instructions (指令): \(Set(receipts.map(\.instructionNo)).count) to \(receipts.count) addressee(s) ("
                + Dictionary(grouping: receipts, by: \.state).sorted { $0.key < $1.key }.map { "\($1.count) \($0)" }.joined(separator: ", ")
                + "), \(receipts.filter(\.overdue).count) overdue")
        for simulator in simulators where !simulator.inbox.documents.isEmpty {
            print(
                "\(simulator.configuration.agency.rawValue) received \(simulator.inbox.documents.count) document(s) "
                    + "(\(simulator.baseURL!)/_received)")
        }
        print(
            "Try: liandong incidents list · liandong incidents show <number> · liandong incidents conflicts · liandong incidents candidates · "
                + "liandong deliveries list --awaiting · liandong transfers list --overdue · liandong instructions list · liandong warnings calls · "
                + "liandong errors list · liandong audit verify · liandong stats")
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
        discussion: """
            A built-in agency (hotline-12345, fire-119, police-110, ambulance-120, weather, emergency-bureau) runs its own \
            simulator, with records that change over time. Any other agency folder, or any folder with --samples, is \
            served from its sample pages (Adapters/<system>/samples/) the way its adapter.yaml pages them.
            Inject faults with: curl -X POST 'http://127.0.0.1:PORT/_faults?kind=server_error&count=3' \
            (kinds: \(Fault.allCases.map(\.rawValue).joined(separator: ", ")); add &endpoint=inbox for deliveries).
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agency's system name (its folder's 'system').") var system: String
    @Option var port: Int = 0
    @Option(help: "Built-in simulators: the seed of their data.") var seed: UInt64 = 1
    @Option(help: "Built-in simulators: how many records.") var records: Int = 50
    @Option(help: "Release this many records (built-in: record versions) per second instead of all at once.") var live: Double?
    @Flag(help: "Serve the folder's sample pages even for a built-in agency.") var samples = false

    func run() async throws {
        if !samples, let kind = AgencySimulator.Agency(rawValue: system) {
            var configuration = AgencySimulator.Configuration(agency: kind, seed: seed, records: records, releasePerSecond: live)
            configuration.port = port
            let simulator = AgencySimulator(configuration)
            try await Self.serve(simulator, until: { simulator.baseURL }) {
                "\(kind.rawValue) simulator at \($0) (token: \(kind == .hotline ? configuration.token : "none"))"
            }
            return
        }
        let runtime = try Runtime(global)
        let definition = try runtime.adapters().definition(system)
        let simulator = try FolderSimulator(definition: definition, catalog: try runtime.catalog(), port: port, releasePerSecond: live)
        try await Self.serve(simulator, until: { simulator.baseURL }) {
            "\(system) served from \(definition.folder.path)/samples at \($0)"
                + (definition.auth.scheme == .none ? "" : " (it does not check credentials)")
        }
    }

    /// Runs `simulator` until interrupted, printing `banner` once it listens.
    static func serve(_ simulator: some Service, until baseURL: @escaping @Sendable () -> String?, banner: (String) -> String) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await simulator.run() }
            let deadline = ContinuousClock.now + .seconds(10)
            while baseURL() == nil {
                guard ContinuousClock.now < deadline else { throw CouldNotRun("the simulator did not start listening within 10 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
            print(banner(baseURL()!))
            fflush(nil)
            try await group.next()
        }
    }
}
