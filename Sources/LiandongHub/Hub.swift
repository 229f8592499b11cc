import Foundation
import LiandongModel
import Logging
import PostgresNIO

/// The hub's PostgreSQL store: migrations, the ingest transaction, the audit chain, quarantine and
/// the queries admins run. One `Hub` wraps one `PostgresClient`, whose `run()` must be going while
/// the hub is used; `Hub.withHub` arranges that.
///
/// ```swift
/// try await Hub.withHub(at: location, logger: logger) { hub in
///     try await hub.migrate()
///     let summary = try await hub.ingest(batch)
/// }
/// ```
public struct Hub: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// Authority and matching rules for incidents (`Mappings/policies/`).
    public private(set) var policy: IncidentPolicy
    /// The data-sharing agreements changes are delivered under (`Mappings/policies/sharing.yaml`).
    public private(set) var sharing: SharingPolicy
    /// The matter list transfers are opened by (`Mappings/policies/routing.yaml`).
    public private(set) var routing: RoutingPolicy
    /// Where ingest moves the time spent on identity out of `write` into `resolve`, when measured.
    public private(set) var clock: StageClock?
    /// What this process has written since it last analyzed the tables.
    let statistics = TableStatistics()

    public init(
        client: PostgresClient, logger: Logger, policy: IncidentPolicy = .none, sharing: SharingPolicy = .none,
        routing: RoutingPolicy = .none
    ) {
        self.client = client
        self.logger = logger
        self.policy = policy
        self.sharing = sharing
        self.routing = routing
    }

    /// This hub deciding incidents under `policy`, delivering changes under `sharing` and opening
    /// transfers under `routing`.
    public func with(policy: IncidentPolicy, sharing: SharingPolicy, routing: RoutingPolicy = .none) -> Hub {
        var hub = self
        (hub.policy, hub.sharing, hub.routing) = (policy, sharing, routing)
        return hub
    }

    /// This hub reporting the time its ingest spends on identity to `clock`.
    public func timed(by clock: StageClock?) -> Hub {
        var hub = self
        hub.clock = clock
        return hub
    }

    /// Connects to `location`, runs the client for the duration of `body`, and shuts it down after.
    public static func withHub<Result: Sendable>(
        at location: DatabaseLocation, logger: Logger, _ body: (Hub) async throws -> Result
    ) async throws -> Result {
        // The body may ask for a connection before the task below has started `run()`; PostgresNIO
        // warns about that although the lease simply waits. Its background logger only gets errors.
        var backgroundLogger = logger
        backgroundLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: backgroundLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Hub(client: client, logger: logger))
        }
    }

    /// Runs `body` in one transaction. A body's own error is rethrown as itself. Written here rather
    /// than with PostgresNIO's `withTransaction`, whose `ROLLBACK` on a closed connection never
    /// returns (see `ConnectionGuard`); a connection whose `ROLLBACK` fails is closed, not pooled.
    func withTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await client.withConnection(isolation: isolation) { connection in
            try await connection.guardedQuery("BEGIN", logger: logger)
            let value: Result
            do {
                value = try await body(connection)
            } catch {
                do {
                    try await connection.guardedQuery("ROLLBACK", logger: logger)
                } catch {
                    try? await connection.close()
                }
                throw error
            }
            try await connection.guardedQuery("COMMIT", logger: logger)
            return value
        }
    }

    /// Creates `database` on the server at `location` (connected through its `postgres` database) if
    /// it does not exist.
    public static func createDatabaseIfNeeded(at location: DatabaseLocation, logger: Logger) async throws {
        try await withHub(at: location.with(database: "postgres"), logger: logger) { hub in
            let rows = try await hub.rows(
                "SELECT 1 FROM pg_database WHERE datname = \(location.database)", logger: logger)
            for try await _ in rows { return }
            // Identifiers cannot be bound; the name is checked to be a plain identifier first.
            guard location.database.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw HubError(.invalidDatabaseURL, "database name '\(location.database)' must be letters, digits and _")
            }
            try await hub.rows(PostgresQuery(unsafeSQL: "CREATE DATABASE \(location.database)"), logger: logger)
        }
    }
}
