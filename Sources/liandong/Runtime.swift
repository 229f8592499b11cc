import ArgumentParser
import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Folder for local state and the embedded database (default ./.liandong).")
    var dataDirectory: String?

    @Option(help: "Configuration file (see Deploy/liandong.example.yaml). Default: $LIANDONG_CONFIG if set.")
    var config: String?
}

/// The composition root: configuration, logging, the database (embedded or configured) and mappings.
struct Runtime {
    var configuration: HubConfiguration
    let logger: Logger
    /// `Mappings/` once read: the command and `withHub` use one load.
    private let loaded = LoadedCatalog()

    init(_ options: GlobalOptions) throws {
        let configPath = options.config ?? ProcessInfo.processInfo.environment["LIANDONG_CONFIG"]
        configuration = try HubConfiguration(
            file: configPath.map { URL(fileURLWithPath: $0) }, dataDirectory: options.dataDirectory.map { URL(fileURLWithPath: $0) })
        logger = Logger(label: "liandong")
    }

    /// The embedded cluster for this data directory.
    /// Where the command's database is: the configured URL, else the embedded cluster's socket.
    func databaseLocation() throws -> DatabaseLocation {
        try configuration.databaseURL.map(DatabaseLocation.init(url:)) ?? embedded().location
    }

    /// Runs `body` with a new database `name` on the command's server (the embedded cluster started
    /// for it if it is not running), dropped afterwards.
    func withScratchDatabase<Result>(named name: String, _ body: (DatabaseLocation) async throws -> Result) async throws -> Result {
        let server = configuration.databaseURL == nil ? try embedded() : nil
        let started = try server?.start() ?? false
        defer { if started { server?.stop() } }
        let location = try databaseLocation().with(database: name)
        try await Hub.dropDatabaseIfExists(at: location, logger: logger)
        try await Hub.createDatabaseIfNeeded(at: location, logger: logger)
        do {
            let result = try await body(location)
            try await Hub.dropDatabaseIfExists(at: location, logger: logger)
            return result
        } catch {
            try? await Hub.dropDatabaseIfExists(at: location, logger: logger)
            throw error
        }
    }

    func embedded() throws -> EmbeddedPostgres {
        try EmbeddedPostgres(dataDirectory: configuration.dataDirectory, logger: logger)
    }

    /// The command's database as services: the signal watch (first, so a SIGTERM or SIGINT from now on
    /// stops things in order), the database (the embedded cluster started when no URL is configured,
    /// created, migrated; stopped last) and the hub's client. Services that need the database wait
    /// for `gate`.
    private func databaseServices(policies: HubPolicies) async throws -> (
        services: [ServiceGroupConfiguration.ServiceConfiguration], hub: Hub, gate: DatabaseGate, signal: SignalReceived
    ) {
        let watch = SignalWatch(signals: await UnixSignalsSequence(trapping: .sigterm, .sigint))
        let gate = DatabaseGate()
        // The embedded cluster when no URL is configured.
        let server = configuration.databaseURL == nil ? try embedded() : nil
        let location = try server?.location ?? databaseLocation()
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: logger)
        let hub = Hub(client: client, policies: policies, logger: logger)
        let database = DatabaseService(location: location, embedded: server, gate: gate, hub: hub, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: watch, successTerminationBehavior: .gracefullyShutdownGroup), .init(service: database),
            .init(service: client),
        ]
        return (services, hub, gate, watch.received)
    }

    /// Runs `body` with a hub writing under the policies of `Mappings/policies/`, on the command's
    /// database (`databaseServices`), then stops what it started. A SIGTERM or SIGINT stops the
    /// command: the database stops, and the command exits with 128 + the signal's number.
    func withHub<Result: Sendable>(_ body: (Hub) async throws -> Result) async throws -> Result {
        try await withHub(policies: try catalog().policies, body)
    }

    /// `withHub` under no policies, so that `Mappings/` need not be there or valid: for commands that
    /// read, or change only what no policy decides (a pause, an ignored failure, migrations).
    func withPlainHub<Result: Sendable>(_ body: (Hub) async throws -> Result) async throws -> Result {
        try await withHub(policies: .none, body)
    }

    private func withHub<Result: Sendable>(policies: HubPolicies, _ body: (Hub) async throws -> Result) async throws -> Result {
        let (services, hub, gate, signal) = try await databaseServices(policies: policies)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let outcome: Swift.Result<Result, any Error>
            do {
                try await gate.ready()
                outcome = .success(try await body(hub))
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            var stopping: (any Error)?
            do {
                try await tasks.waitForAll()
            } catch {
                stopping = error
            }
            if case .failure = outcome, let stoppedBySignal = signal.exitCode { throw stoppedBySignal }
            let result = try outcome.get()
            if let stopping { throw stopping }
            return result
        }
    }

    /// Runs the services `build` makes for a hub as one `ServiceGroup` with the command's database
    /// (`databaseServices`), until a service ends the group or SIGTERM/SIGINT asks it to stop: then
    /// each service finishes what it is doing, in reverse order, then the client, then the embedded
    /// cluster (if this command started it) stops last. The services start once the database is ready.
    func runServices(_ build: (Hub) async throws -> [ServiceGroupConfiguration.ServiceConfiguration]) async throws {
        let policies = try catalog().policies
        let (database, hub, gate, signal) = try await databaseServices(policies: policies)
        let services = try await build(hub).map { configuration in
            var waiting = configuration
            waiting.service = AfterDatabase(service: configuration.service, gate: gate)
            return waiting
        }
        do {
            try await ServiceGroup(configuration: ServiceGroupConfiguration(services: database + services, logger: logger)).run()
        } catch {
            // Stopped by a signal before it could run: said, then the stop's status.
            guard let stoppedBySignal = signal.exitCode else { throw error }
            logger.error("Stopped by a signal while starting: \(error)")
            throw stoppedBySignal
        }
    }

    /// The address to listen on: `--listen host:port` when given, else `serve.listen` of the configuration.
    func listenAddress(_ option: String?) throws -> (host: String, port: Int) {
        guard let option else { return (configuration.serve.host, configuration.serve.port) }
        guard let colon = option.lastIndex(of: ":"), let port = Int(option[option.index(after: colon)...]), (0...65_535).contains(port) else {
            throw ValidationError("--listen: expected host:port, like 127.0.0.1:9465")
        }
        return (String(option[..<colon]), port)
    }

    /// The agency folders of `Adapters/`.
    func adapters() throws -> AdapterCatalog { try configuration.adapterCatalog() }

    /// `Mappings/`, read on first use.
    func catalog() throws -> MappingCatalog {
        try loaded.catalog.withLock { loaded in
            if let loaded { return loaded }
            let catalog = try MappingCatalog(directory: configuration.mappingsDirectory)
            loaded = catalog
            return catalog
        }
    }
}

/// Where a `Runtime` keeps `Mappings/` once read (a class: copies of the runtime share it).
private final class LoadedCatalog: Sendable {
    let catalog = Mutex<MappingCatalog?>(nil)
}

/// `--reason` for a command that changes something: its audit entry names the operating-system user
/// who ran it (`cli:<login>`) and this reason.
struct DecisionOptions: ParsableArguments {
    @Option(help: "Why (written into the audit entry with your login).") var reason: String?

    var actor: ActingUser { .commandLine(reason: reason) }
}

extension ActingUser {
    /// The operating-system user running this command, for `reason`.
    static func commandLine(reason: String?) -> ActingUser {
        ActingUser("cli:" + (ProcessInfo.processInfo.environment["USER"] ?? NSUserName()), reason: reason ?? "no reason given")
    }
}
