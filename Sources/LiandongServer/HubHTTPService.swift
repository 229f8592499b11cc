import Foundation
import Hummingbird
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync
import Logging
import Prometheus
import ServiceLifecycle

/// The HTTP server as one service of `serve`'s or `demo`'s group: it starts once the database is up,
/// makes the first admin if asked and none exists, loads the console, and serves it beside the
/// operations endpoints until the group shuts down.
public struct HubHTTPService: Service {
    /// What the service serves and where.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var console: Console.Configuration
        /// Make an `admin` user with a generated password when the hub has no user yet (`demo`).
        public var makeFirstAdmin: Bool

        /// The server at `host:port`, with the console configured by `console`.
        public init(host: String, port: Int, console: Console.Configuration = .init(), makeFirstAdmin: Bool = false) {
            self.host = host
            self.port = port
            self.console = console
            self.makeFirstAdmin = makeFirstAdmin
        }
    }

    let hub: Hub
    let catalog: MappingCatalog
    let jobs: JobRunner
    let registry: PrometheusCollectorRegistry
    let configuration: Configuration
    let logger: Logger
    /// Told the bound port and, when one was made, the first admin's name and password.
    let onBound: @Sendable (Int, (name: String, password: String)?) async -> Void

    /// A server over `hub`; `onBound` hears the port it listens on and any first admin it made.
    public init(
        hub: Hub, catalog: MappingCatalog, jobs: JobRunner, registry: PrometheusCollectorRegistry, configuration: Configuration, logger: Logger,
        onBound: @escaping @Sendable (Int, (name: String, password: String)?) async -> Void
    ) {
        self.hub = hub
        self.catalog = catalog
        self.jobs = jobs
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let firstAdmin = configuration.makeFirstAdmin ? try await Console.makeFirstAdmin(hub) : nil
        let console = try await Console(hub: hub, catalog: catalog, jobs: jobs, configuration: configuration.console, logger: logger)
        let application = OperationsServer.application(
            hub: hub, registry: registry, host: configuration.host, port: configuration.port, console: console, logger: logger,
            onBound: { port in await onBound(port, firstAdmin) })
        try await application.run()
    }
}

extension Console {
    /// Makes `admin` (every role and `personal_data`) with a generated password when the hub has no
    /// user yet; returns its name and password, to be shown once. Nil when users exist.
    public static func makeFirstAdmin(_ hub: Hub) async throws -> (name: String, password: String)? {
        guard try await !hub.console.hasUsers() else { return nil }
        let password = secret(bytes: 12)
        let grants = Role.allCases.map { Grant($0) } + [.personalData()]
        try await hub.console.createUser(
            name: "admin", passwordHash: hash(password: password), grants: grants, by: ActingUser("system", reason: "first admin of a new hub"))
        return ("admin", password)
    }
}
