import ArgumentParser
import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongSync
import Logging
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

    /// Connects (starting the embedded cluster when no URL is configured and it is not running),
    /// migrates, runs `body` with a hub writing under the policies of `Mappings/policies/`, and stops
    /// the cluster again if this call started it.
    func withHub<Result: Sendable>(_ body: (Hub) async throws -> Result) async throws -> Result {
        let policies = try catalog().policies
        let location: DatabaseLocation
        var startedServer: EmbeddedPostgres?
        if let url = configuration.databaseURL {
            location = try DatabaseLocation(url: url)
        } else {
            let server = try embedded()
            if !server.isRunning() { Cleanup.shared.add { server.stop() } }
            if try Cleanup.shared.holdingSignals({ try server.start() }) { startedServer = server }
            location = server.location
            try await Hub.createDatabaseIfNeeded(at: location, logger: logger)
        }
        defer { startedServer?.stop() }
        return try await Hub.withHub(at: location, policies: policies, logger: logger) { hub in
            try await hub.migrate()
            return try await body(hub)
        }
    }

    /// Loads `Mappings/`.
    func catalog() throws -> MappingCatalog {
        try MappingCatalog(directory: configuration.mappingsDirectory)
    }
}

/// Work to do when the process is interrupted (SIGINT/SIGTERM): stopping the embedded server.
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
