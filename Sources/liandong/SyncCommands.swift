import ArgumentParser
import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongSync
import ServiceLifecycle

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull each configured source after its cursor, map, and ingest.",
        discussion: "With --once, one pass over every stream; otherwise passes repeat every sync.interval_seconds until interrupted.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Run one pass and exit.") var once = false
    @Option(help: "Only this source (hotline-12345, fire-119, weather).") var source: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let runtime = try Runtime(global)
        let names = runtime.configuration.sources.keys.sorted().filter { source == nil || $0 == source }
        guard !names.isEmpty else {
            throw CouldNotRun(
                source.map { "source '\($0)' is not configured under 'sources' in the configuration file" }
                    ?? "no sources are configured: add a 'sources' section to the configuration file (see Deploy/liandong.example.yaml)")
        }
        let agencies = try runtime.adapters()
        let adapters = try names.map {
            try agencies.make($0, settings: runtime.configuration.sources[$0]!, logger: runtime.logger)
        }
        let catalog = try runtime.catalog()
        if once {
            let runs = try await runtime.withHub { hub in try await Self.pass(adapters, SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger)) }
            try output.show(runs) { runs in runs.forEach { print(SyncReport.line($0)) } }
            if runs.contains(where: { $0.error != nil }) { throw ExitStatus.problemsFound }
            return
        }
        // Until SIGTERM or SIGINT, which lets the pass in progress finish.
        try await runtime.runServices { hub in
            [.init(service: Passes(adapters: adapters, engine: SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger),
                                   interval: runtime.configuration.syncInterval, output: output))]
        }
    }

    /// One pass over every stream of `adapters`.
    static func pass(_ adapters: [any SourceAdapter], _ engine: SyncEngine) async throws -> [StreamStore.SyncRunRecord] {
        var runs: [StreamStore.SyncRunRecord] = []
        for adapter in adapters { runs += try await engine.sync(adapter) }
        return runs
    }

    /// `sync` without `--once`: a pass every `interval` seconds, printed, until the group shuts down.
    struct Passes: Service {
        let adapters: [any SourceAdapter]
        let engine: SyncEngine
        let interval: Double
        let output: OutputOptions

        func run() async throws {
            while !Task.isShuttingDownGracefully {
                let runs = try await Sync.pass(adapters, engine)
                try output.show(runs) { runs in runs.forEach { print(SyncReport.line($0)) } }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(interval)) }
            }
        }
    }
}

/// How a sync run is shown on one line.
enum SyncReport {
    static func line(_ run: StreamStore.SyncRunRecord) -> String {
        let s = run.summary
        var text = "\(run.source)/\(run.stream): pulled \(run.pulled), inserted \(s.inserted), updated \(s.updated), "
            + "unchanged \(s.unchanged), older \(s.older), linked \(s.linked), quarantined \(s.failures)"
        if let error = run.error { text += " — error: \(error)" }
        return text
    }
}

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ingest payload files through a source's mapping, as an exchange folder delivers them.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The source whose mapping the files go through.") var source: String
    @Argument(help: "Payload files.") var files: [String]

    func run() async throws {
        let runtime = try Runtime(global)
        let adapter = try runtime.adapters().definition(source)
        let catalog = try runtime.catalog()
        let summary = try await runtime.withHub { hub in
            try await SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger)
                .ingestFiles(files.map { URL(fileURLWithPath: $0) }, from: adapter)
        }
        print(
            "files \(files.count): new \(summary.newPayloads), identical to earlier \(summary.duplicatePayloads); inserted \(summary.inserted), "
                + "updated \(summary.updated), unchanged \(summary.unchanged), older \(summary.older), linked \(summary.linked), "
                + "quarantined \(summary.failures)")
    }
}
