import ArgumentParser
import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongSync

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
            throw ValidationError(
                source.map { "source '\($0)' is not configured under 'sources' in the configuration file" }
                    ?? "no sources are configured: add a 'sources' section to the configuration file (see Deploy/liandong.example.yaml)")
        }
        let adapters = try names.map {
            try AdapterRegistry.make($0, settings: runtime.configuration.sources[$0]!, logger: runtime.logger)
        }
        let catalog = try runtime.catalog()
        let failed = try await runtime.withHub { hub in
            let engine = SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger)
            var failed = false
            repeat {
                var runs: [StreamStore.SyncRunRecord] = []
                for adapter in adapters { runs += try await engine.sync(adapter) }
                failed = runs.contains { $0.error != nil }
                try output.show(runs) { runs in runs.forEach { print(SyncReport.line($0)) } }
                if !once { try await Task.sleep(for: .seconds(runtime.configuration.syncInterval)) }
            } while !once
            return failed
        }
        if failed { throw ExitStatus.problemsFound }
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
        let adapter = try AdapterRegistry.adapterType(source)
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
