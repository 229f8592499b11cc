import ArgumentParser
import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongSync
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

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

    init(_ options: GlobalOptions) throws {
        let configPath = options.config ?? ProcessInfo.processInfo.environment["LIANDONG_CONFIG"]
        configuration = try HubConfiguration(
            file: configPath.map { URL(fileURLWithPath: $0) }, dataDirectory: options.dataDirectory.map { URL(fileURLWithPath: $0) })
        logger = Logger(label: "liandong")
    }

    /// The embedded cluster for this data directory.
    func embedded() throws -> EmbeddedPostgres {
        try EmbeddedPostgres(dataDirectory: configuration.dataDirectory, logger: logger)
    }

    /// The database this command uses, created and migrated: the configured URL, or the embedded
    /// cluster, started when it is not running; `started` is the cluster this call started, for the
    /// command to stop when it ends.
    func openDatabase() async throws -> (location: DatabaseLocation, started: EmbeddedPostgres?) {
        let location: DatabaseLocation
        var started: EmbeddedPostgres?
        if let url = configuration.databaseURL {
            location = try DatabaseLocation(url: url)
        } else {
            let server = try embedded()
            if !server.isRunning() { Cleanup.shared.add { server.stop() } }
            if try Cleanup.shared.holdingSignals({ try server.start() }) { started = server }
            location = server.location
            do {
                try await Hub.createDatabaseIfNeeded(at: location, logger: logger)
            } catch {
                try stop(started, after: error)
            }
        }
        do {
            _ = try await Hub.withHub(at: location, policies: .none, logger: logger) { try await $0.migrate() }
        } catch {
            try stop(started, after: error)
        }
        return (location, started)
    }

    /// Stops the cluster a command started when the command fails, unless a signal is being handled:
    /// the handler stops it then, and two stops at once would leave one behind at the handler's exit.
    private func stop(_ server: EmbeddedPostgres?, after error: any Error) throws -> Never {
        Cleanup.shared.parkIfTerminating()
        server?.stop()
        throw error
    }

    /// Opens the database (`openDatabase`), runs `body` with a hub writing under the policies of
    /// `Mappings/policies/`, and stops the embedded cluster again if this call started it.
    func withHub<Result: Sendable>(_ body: (Hub) async throws -> Result) async throws -> Result {
        let policies = try catalog().policies
        let (location, started) = try await openDatabase()
        defer { started?.stop() }
        return try await Hub.withHub(at: location, policies: policies, logger: logger, body)
    }

    /// Runs the services `build` makes for a hub as one `ServiceGroup` with the hub's client and the
    /// database, until a service ends the group or SIGTERM/SIGINT asks it to stop: then each service
    /// finishes what it is doing, in reverse order, then the client, then the embedded cluster (if
    /// this command started it) stops last.
    func runServices(_ build: (Hub) async throws -> [ServiceGroupConfiguration.ServiceConfiguration]) async throws {
        let policies = try catalog().policies
        let (location, started) = try await openDatabase()
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: logger)
        let hub = Hub(client: client, policies: policies, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration]
        do {
            services = try await build(hub)
        } catch {
            try stop(started, after: error)
        }
        Cleanup.shared.handOverSignals()
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: EmbeddedDatabaseService(server: started)), .init(service: client)] + services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Loads `Mappings/`.
    func catalog() throws -> MappingCatalog {
        try MappingCatalog(directory: configuration.mappingsDirectory)
    }
}

/// Stops the embedded cluster this command started when its service group shuts down. It is the
/// group's first service, so it stops last, after everything that used the database.
struct EmbeddedDatabaseService: Service {
    /// Nil when the command did not start it (a configured URL, or a cluster already running).
    let server: EmbeddedPostgres?

    func run() async throws {
        // Cancelled or shut down gracefully, the cluster stops either way.
        try? await gracefulShutdown()
        server?.stop()
    }
}

/// Work to do when the process is interrupted (SIGINT/SIGTERM) outside a service group: stopping the
/// embedded server.
final class Cleanup: Sendable {
    static let shared = Cleanup()
    private let actions = Mutex<[@Sendable () -> Void]>([])
    private let terminating = Mutex(false)
    private let starting = Mutex(0)
    private let handedOver = Mutex(false)
    /// Kept alive for the life of the process; never mutated after init.
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    private init() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                guard !handedOver.withLock({ $0 }) else { return }
                terminating.withLock { $0 = true }
                while starting.withLock({ $0 }) > 0 { usleep(10_000) }
                for action in actions.withLock({ $0 }).reversed() { action() }
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// From now on SIGINT/SIGTERM belong to a ServiceLifecycle group (`serve`): it shuts down gracefully
    /// and the command stops the embedded server on its way out.
    func handOverSignals() {
        handedOver.withLock { $0 = true }
    }

    func add(_ action: @escaping @Sendable () -> Void) {
        actions.withLock { $0.append(action) }
    }

    /// Runs `body` (starting the embedded server) with signals handled only after it: a stop sent
    /// before the new server has written its `postmaster.pid` would find nothing to stop, and the
    /// server would outlive the command.
    func holdingSignals<T>(_ body: () throws -> T) rethrows -> T {
        starting.withLock { $0 += 1 }
        defer { starting.withLock { $0 -= 1 } }
        return try body()
    }

    /// While a signal is being handled, the handler owns the exit: the command, failing or done because
    /// the server went away under it, must not exit first and cut the server's shutdown short.
    func parkIfTerminating() {
        guard terminating.withLock({ $0 }) else { return }
        while true { sleep(60) }
    }
}
