import ArgumentParser
import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongMapping
import LiandongSimulator
import Logging

struct AdapterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapter", abstract: "Add and check agency folders (Adapters/<system>/).", subcommands: [New.self, Check.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new agency folder: a commented adapter.yaml, a mapping skeleton and a sample page.",
            discussion: "Then edit them to the agency's real pages and run 'liandong adapter check <system>'.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agency system's name, like water-resources (lower case, digits and '-').") var system: String
        @Option(help: "http, folder or database.") var transport: String = "http"
        @Option(help: "json, xml or csv (a database's rows are read as JSON).") var format: String = "json"

        func run() async throws {
            guard system.range(of: "^[a-z][a-z0-9-]*$", options: .regularExpression) != nil else {
                throw ValidationError("'\(system)' is not a system name: lower case letters, digits and '-', like water-resources")
            }
            guard let scaffold = Scaffold(system: system, transport: transport, format: format) else {
                throw ValidationError("expected --transport http, folder or database and --format json, xml or csv")
            }
            let runtime = try Runtime(global)
            let folder = runtime.configuration.adaptersDirectory.appendingPathComponent(system)
            let mappings = runtime.configuration.mappingsDirectory.appendingPathComponent(system)
            for existing in [folder, mappings] where FileManager.default.fileExists(atPath: existing.path) {
                throw CouldNotRun("\(existing.path) exists already: pick another name, or remove it first")
            }
            let files = [
                (folder.appendingPathComponent("adapter.yaml"), scaffold.adapter),
                (mappings.appendingPathComponent("record.yaml"), scaffold.mapping),
                (folder.appendingPathComponent("samples/records.\(scaffold.extension)"), scaffold.sample),
            ]
            for (file, text) in files {
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: file, atomically: true, encoding: .utf8)
                print("wrote \(file.path)")
            }
            print("Next: edit them to a page the agency really sent, then run 'liandong adapter check \(system)'.")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the conformance kit on an agency folder: its files, its samples, and reading it (exit 1 on a failure).",
            discussion: """
                Without --live the folder's sample pages are served on loopback as the agency would page them (with \
                injected faults). With --live the system at the configuration's sources.<system>.url (or --url) is read; \
                faults are injected only where it takes them (POST /_faults), and deliveries are sent only with --deliver.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The agency system's name.") var system: String
        @Flag(help: "Read the live system instead of the folder's samples.") var live = false
        @Option(help: "With --live: the system's URL instead of the configuration's.") var url: String?
        @Flag(help: "With --live: also send two test deliveries (marked 'liandong adapter check').") var deliver = false

        func run() async throws {
            let runtime = try Runtime(global)
            let folder = runtime.configuration.adaptersDirectory.appendingPathComponent(system)
            let definition: AdapterDefinition
            do {
                definition = try AdapterDefinition(folder: folder)
            } catch {
                try report([.init(check: "folder", stream: "", result: .fail, detail: "\(error)")])
                throw ExitStatus.problemsFound
            }
            var kit = ConformanceKit(definition: definition, catalog: try runtime.catalog())
            let environment = ProcessInfo.processInfo.environment
            kit.checkFolder()
            kit.checkConfiguration(runtime.configuration.sources[system], environment: environment)
            kit.checkSamples()
            let agencies = AdapterCatalog(definitions: [definition])
            // The kit injects faults: the adapter's retry warnings are expected, not news.
            var logger = runtime.logger
            logger.logLevel = .error
            if live {
                // --url moves the configured source (its credentials, TLS files, overlap) elsewhere.
                var configured = runtime.configuration.sources[system]
                if let url { configured = configured.map { var moved = $0; moved.url = url; return moved } ?? .init(url: url) }
                guard let settings = configured else {
                    throw CouldNotRun("no URL for \(system): give --url, or sources.\(system).url in the configuration")
                }
                let make = Self.maker(agencies, system, settings, environment, logger)
                let inject = definition.transport == .http ? ConformanceKit.injector(baseURL: settings.url) : nil
                await kit.checkReading(adapter: make, inject: inject)
                await kit.checkDelivery(deliver ? try? make(2, 5).receiver : nil, inject: inject)
            } else {
                try await checkSamplesServed(&kit, agencies, definition, runtime, logger)
            }
            try report(kit.checks)
            if kit.failed { throw ExitStatus.problemsFound }
        }

        /// Reads the folder's samples as the agency would serve them: over HTTP from a `FolderSimulator`,
        /// from the samples folder itself for a drop folder, from tables made of them for a database.
        func checkSamplesServed(
            _ kit: inout ConformanceKit, _ agencies: AdapterCatalog, _ definition: AdapterDefinition, _ runtime: Runtime, _ logger: Logger
        ) async throws {
            // Credentials are checked by the configuration row; the simulator takes any.
            let environment = Dictionary(uniqueKeysWithValues: definition.auth.variables(overriddenBy: [:]).map { ($0.variable, "adapter-check") })
            switch definition.transport {
            case .folder:
                let samples = definition.folder.appendingPathComponent("samples")
                let make = Self.maker(agencies, system, .init(url: samples.path), environment, logger)
                await kit.checkReading(adapter: make, inject: nil)
                await kit.checkDelivery(nil, inject: nil)
            case .http:
                let simulator: FolderSimulator
                do {
                    simulator = try FolderSimulator(definition: definition, catalog: try runtime.catalog())
                } catch {
                    kit.record("reads", "", .skipped, "\(error); check it with --live against the agency or a simulator of it")
                    return
                }
                let server = Task { try await simulator.run(logger: runtime.logger) }
                defer { server.cancel() }
                let deadline = ContinuousClock.now + .seconds(10)
                while simulator.baseURL == nil {
                    guard ContinuousClock.now < deadline else { throw CouldNotRun("the samples' simulator did not start listening within 10 s") }
                    try await Task.sleep(for: .milliseconds(10))
                }
                let make = Self.maker(agencies, system, .init(url: simulator.baseURL!), environment, logger)
                let inject = ConformanceKit.injector(baseURL: simulator.baseURL!)
                await kit.checkReading(adapter: make, inject: inject)
                await kit.checkDelivery(try make(2, 5).receiver, inject: inject)
            case .database:
                // The samples become tables in a scratch database on the command's server.
                try await runtime.withScratchDatabase(named: "liandong_check_" + system.replacingOccurrences(of: "-", with: "_")) { database in
                    try await DatabaseSamples.load(definition, into: database.connectionConfiguration, logger: logger)
                    let make = Self.maker(agencies, system, .init(url: database.url), environment, logger)
                    let spoil = ConformanceKit.rowSpoiler(definition, connection: database.connectionConfiguration, logger: logger)
                    await kit.checkReading(adapter: make, inject: spoil)
                    await kit.checkDelivery(definition.receives == nil ? nil : try make(2, 5).receiver, inject: spoil)
                }
            case .custom:
                kit.record("reads", "", .skipped, "the \(definition.transport) transport has no samples server: check it with --live")
            }
        }

        /// Builds the hub's adapter for the system with a page size and timeout of the kit's choosing.
        static func maker(
            _ agencies: AdapterCatalog, _ system: String, _ settings: HubConfiguration.Source, _ environment: [String: String], _ logger: Logger
        ) -> (Int, Double) throws -> any SourceAdapter {
            { pageSize, timeout in
                var settings = settings
                settings.pageSize = pageSize
                settings.timeoutSeconds = timeout
                settings.attempts = 4
                return try agencies.make(system, settings: settings, environment: environment, logger: logger)
            }
        }

        func report(_ checks: [ConformanceKit.Check]) throws {
            try output.show(checks) { _ in
                var kit = ConformanceKit.table(checks)
                let counts = Dictionary(grouping: checks, by: \.result).mapValues(\.count)
                kit += "\n\(counts[.pass] ?? 0) passed, \(counts[.fail] ?? 0) failed, \(counts[.skipped] ?? 0) skipped"
                print(kit)
            }
        }
    }
}
