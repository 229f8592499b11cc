import ArgumentParser
import CMalloc
import LiandongHub
import Foundation
import Logging

/// `liandong`: the emergency-linkage data hub's command-line tool.
@main
struct Liandong: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liandong",
        abstract: "Liandong (联动): the data-sharing sync hub between emergency agencies.",
        discussion: ExitStatus.help,
        groupedSubcommands: [
            CommandGroup(name: "Run", subcommands: [Demo.self, Serve.self, Sync.self, Ingest.self, Rebuild.self]),
            CommandGroup(
                name: "Inspect and decide",
                subcommands: [
                    Incidents.self, Errors.self, Deliveries.self, Transfers.self, Instructions.self, Warnings.self, Resources.self,
                    Streams.self, Show.self, Stats.self, Audit.self,
                ]),
            CommandGroup(name: "Set up", subcommands: [Database.self, Migrate.self, AdapterCommand.self, MappingCommand.self, Users.self, Coords.self]),
            CommandGroup(name: "Try and measure", subcommands: [Simulate.self, Bench.self]),
        ])

    static func main() async {
        // glibc gives each thread that allocates an arena of its own (up to eight per core), and each
        // keeps what it freed: with the ingest steps on every core that was 17 MB more peak memory
        // for no measurable speed (docs/performance.md). Two arenas are enough for two cores' work.
        mallopt(M_ARENA_MAX, 2)
        let level = ProcessInfo.processInfo.environment["LIANDONG_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // ExitCode, ValidationError, help and usage: ArgumentParser says them with its statuses.
            exit(withError: error)
        } catch {
            // Whatever stopped the work: said once, with the status every command uses for it.
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            exit(withError: ExitStatus.couldNotRun)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the database migrations (done automatically by every command).")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let runtime = try Runtime(global)
        try await runtime.withPlainHub { hub in
            let applied = try await hub.migrate()
            print(applied.isEmpty ? "Database is up to date." : "Applied: \(applied.joined(separator: ", "))")
        }
    }
}

struct Database: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Run the embedded PostgreSQL in the background.",
        subcommands: [Start.self, Stop.self, URLCommand.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the embedded database and leave it running.")
        @OptionGroup var global: GlobalOptions
        func run() async throws {
            let runtime = try Runtime(global)
            let server = try runtime.embedded()
            let started = try server.start()
            try await Hub.createDatabaseIfNeeded(at: server.location, logger: runtime.logger)
            _ = try await Hub.withHub(at: server.location, policies: .none, logger: runtime.logger) { try await $0.migrate() }
            print(started ? "Started: \(server.location.url)" : "Already running: \(server.location.url)")
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded database.")
        @OptionGroup var global: GlobalOptions
        func run() async throws {
            let server = try Runtime(global).embedded()
            guard server.isRunning() else {
                print("Not running.")
                return
            }
            server.stop()
            print("Stopped.")
        }
    }

    struct URLCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url", abstract: "Print the database URL, for psql \"$(liandong db url)\".")
        @OptionGroup var global: GlobalOptions
        func run() async throws {
            let runtime = try Runtime(global)
            if let url = runtime.configuration.databaseURL {
                print(try DatabaseLocation(url: url).url)
            } else {
                print(try runtime.embedded().location.url)
            }
        }
    }
}
