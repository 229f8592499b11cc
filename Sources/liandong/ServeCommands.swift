import ArgumentParser
import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongServer
import LiandongSync
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run every configured stream on its schedule and deliver to every receiver, under leases, with the console, its API, /healthz, /readyz and /metrics.",
        discussion: """
            Any number of instances may run against one PostgreSQL: each stream's sync and each receiver's deliveries \
            hold a lease there, so they run on one instance at a time, and a dead instance's work is taken over once \
            its leases expire. SIGTERM or SIGINT finishes the page or delivery in progress and stops.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "This instance's name in leases (default: serve.instance, else host name and process id).") var instance: String?
    @Option(help: "host:port for the console, the API, /healthz, /readyz and /metrics (default: serve.listen, else 127.0.0.1:9464).")
    var listen: String?

    func run() async throws {
        let runtime = try Runtime(global)
        let settings = runtime.configuration
        guard !settings.sources.isEmpty else {
            throw CouldNotRun("no sources configured: give --config with a 'sources:' section (see Deploy/liandong.example.yaml)")
        }
        let catalog = try runtime.catalog()
        let registry = OperationsServer.bootstrapMetrics()
        let agencies = try runtime.adapters()
        let jobs = try settings.sources.sorted { $0.key < $1.key }.map { name, source in
            StreamScheduler.Job(
                adapter: try agencies.make(name, settings: source, logger: runtime.logger),
                schedule: source.schedule ?? Schedule(.every(settings.syncInterval), jitter: settings.syncInterval / 10))
        }
        let name = instance ?? settings.serve.instance ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let (host, port) = try runtime.listenAddress(listen)
        try await runtime.runServices { hub in
            let engine = SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger)
            let scheduler = StreamScheduler(engine: engine, jobs: jobs, instance: name, leaseSeconds: settings.serve.leaseSeconds)
            var delivery = settings.delivery
            delivery.leaseSeconds = settings.serve.leaseSeconds
            let targets = AdapterCatalog.targets(jobs.map(\.adapter), sharing: hub.policies.sharing)
            let pusher = DeliveryPusher(
                hub: hub, catalog: catalog, targets: targets, instance: name, configuration: delivery, logger: runtime.logger)
            let jobRunner = JobRunner(hub: hub, engine: engine, logger: runtime.logger)
            let server = HubHTTPService(
                hub: hub, catalog: catalog, jobs: jobRunner, registry: registry, configuration: .init(host: host, port: port),
                logger: runtime.logger,
                onBound: { port, _ in
                    print(
                        "liandong serve: instance \(name), \(jobs.count) source(s), \(targets.count) receiver(s), console http://\(host):\(port)/"
                    )
                    if (try? await hub.console.hasUsers()) == false { print("No console user yet: add one with 'liandong users add NAME --grant admin'.") }
                    fflush(nil)
                })
            return [.init(service: scheduler), .init(service: pusher), .init(service: jobRunner), .init(service: server)]
        }
    }
}

struct Streams: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The streams serve runs: last and next run, lag, failures, the instance holding each.",
        subcommands: [List.self, Pause.self, Resume.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let streams = try await Runtime(global).withPlainHub { try await $0.streams.statuses() }
            try output.list(streams, "stream") { s in
                let lag = s.lagSeconds.map { String(format: "%.0fs", $0) } ?? "-"
                return "\(s.source)/\(s.stream)  \(s.paused ? "PAUSED" : "active")  last \(s.lastRun?.canonicalText ?? "-")  "
                    + "next \(s.nextRun?.canonicalText ?? "-")  lag \(lag)  failures \(s.consecutiveFailures)  "
                    + "holder \(s.holder ?? "-")" + (s.lastError.map { "  error: \($0)" } ?? "")
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop running a stream (source/stream, or a source for all of its streams).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @OptionGroup var decision: DecisionOptions

        func run() async throws { try await Streams.set(name, paused: true, by: decision.actor, global) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a paused stream again.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @OptionGroup var decision: DecisionOptions

        func run() async throws { try await Streams.set(name, paused: false, by: decision.actor, global) }
    }

    static func set(_ name: String, paused: Bool, by actor: ActingUser, _ global: GlobalOptions) async throws {
        let runtime = try Runtime(global)
        let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
        let streams = try parts.count == 2 ? [parts[1]] : runtime.adapters().definition(parts[0]).streams.map(\.name)
        try await runtime.withPlainHub { hub in
            for stream in streams { try await hub.streams.setPaused(source: parts[0], stream: stream, paused, by: actor) }
        }
        print(streams.map { "\(parts[0])/\($0) \(paused ? "paused" : "resumed")" }.joined(separator: "\n"))
    }
}
