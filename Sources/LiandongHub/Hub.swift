import Foundation
import LiandongModel
import Logging
import PostgresNIO
import Synchronization

/// The hub's PostgreSQL store: the connection, its transactions, migrations and the ingest path,
/// with a focused store beside it for each concern — `incidents`, `outbox`, `quarantine`, `streams`,
/// `audit`, `inspection`. One `Hub` wraps one `PostgresClient`, whose `run()` must be going while the
/// hub is used; `Hub.withHub` arranges that. Every write follows `policies`.
///
/// ```swift
/// try await Hub.withHub(at: location, policies: catalog.policies, logger: logger) { hub in
///     try await hub.migrate()
///     let summary = try await hub.ingest(batch)
///     let open = try await hub.quarantine.groups(source: nil)
/// }
/// ```
public struct Hub: Sendable {
    /// Not public: the hub's statements go through `rows`, `withTransaction` or a leased connection's
    /// `guardedQuery`, which fail instead of waiting when a connection closes (see `ConnectionGuard`).
    let client: PostgresClient
    public let logger: Logger
    /// The rules this hub's writes follow: identity and authority, sharing, routing.
    public let policies: HubPolicies
    /// The record kinds this database holds: the built-in ones and the declared ones it has tables for
    /// (read by `loadKinds`, which `withHub` calls; declared kinds in `policies` are stored first).
    /// Shared by every copy of this hub, so that services made before the database was ready see them.
    public var kinds: RecordKinds { heldKinds.value }
    private let heldKinds = KindsHeld()
    /// Where ingest moves the time spent on identity out of `write` into `resolve`, when measured.
    public private(set) var clock: StageClock?
    /// What this process has written since it last analyzed the tables.
    let statistics = TableStatistics()

    /// A hub over `client`, which its owner runs (a `PostgresClient` is a `Service`; `withHub` runs
    /// one for the length of a body).
    public init(client: PostgresClient, policies: HubPolicies, logger: Logger) {
        self.client = client
        self.policies = policies
        self.logger = logger
    }

    /// Incidents, their candidates and conflicts, and the admins' identity decisions.
    public var incidents: IncidentStore { IncidentStore(hub: self) }
    /// Deliveries to receivers and the loops they close: transfers, instructions, call-outs.
    public var outbox: OutboxStore { OutboxStore(hub: self) }
    /// Records that failed to map or store, and their replay.
    public var quarantine: QuarantineStore { QuarantineStore(hub: self) }
    /// Streams, their cursors, runs, leases and pauses.
    public var streams: StreamStore { StreamStore(hub: self) }
    /// The hash-chained audit log: verification and an entity's trail.
    public var audit: AuditLog { AuditLog(hub: self) }
    /// The console's users, sessions, API tokens and bulk jobs.
    public var console: ConsoleStore { ConsoleStore(hub: self) }
    /// Counts, entities and resources for admins.
    public var inspection: Inspection { Inspection(hub: self) }

    /// Makes or evolves the tables of the kinds `policies` declare, then reads every kind the database
    /// holds into `kinds` (for this hub and its copies). Run once the database is migrated.
    public func loadKinds() async throws {
        if !policies.kinds.declared.isEmpty { try await storeKinds(policies.kinds.declared) }
        heldKinds.value = try await storedKinds()
    }

    /// The record kinds a hub and its copies hold.
    final class KindsHeld: Sendable {
        private let held = Mutex(RecordKinds.builtIn)
        var value: RecordKinds {
            get { held.withLock { $0 } }
            set { held.withLock { $0 = newValue } }
        }
    }

    /// Whether the database answers (for `/readyz`).
    public func isReady() async -> Bool {
        (try? await scalar("SELECT 1")) == 1
    }

    /// This hub reporting the time its ingest spends on identity to `clock`.
    public func timed(by clock: StageClock?) -> Hub {
        var hub = self
        hub.clock = clock
        return hub
    }

    /// Connects to `location`, runs the client for the duration of `body`, and shuts it down after.
    /// `policies` are the rules the hub's writes follow; `.none` only where nothing is decided.
    public static func withHub<Result: Sendable>(
        at location: DatabaseLocation, policies: HubPolicies, logger: Logger, _ body: (Hub) async throws -> Result
    ) async throws -> Result {
        // The body may ask for a connection before the task below has started `run()`; PostgresNIO
        // warns about that although the lease simply waits. Its background logger only gets errors.
        var backgroundLogger = logger
        backgroundLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: backgroundLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let hub = Hub(client: client, policies: policies, logger: logger)
            try await hub.loadKinds()
            return try await body(hub)
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
        try await withHub(at: location.with(database: "postgres"), policies: .none, logger: logger) { hub in
            let rows = try await hub.rows(
                "SELECT 1 FROM pg_database WHERE datname = \(location.database)", logger: logger)
            for try await _ in rows { return }
            try await hub.rows(PostgresQuery(unsafeSQL: "CREATE DATABASE \(try checkedName(location))"), logger: logger)
        }
    }

    /// Drops `database` on the server at `location` if it exists, with its sessions: for scratch
    /// databases only (`adapter check`'s tables made of a folder's samples).
    public static func dropDatabaseIfExists(at location: DatabaseLocation, logger: Logger) async throws {
        _ = try await withHub(at: location.with(database: "postgres"), policies: .none, logger: logger) { hub in
            try await hub.rows(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(try checkedName(location)) WITH (FORCE)"), logger: logger)
        }
    }

    /// The database's name, checked to be a plain identifier: identifiers cannot be bound.
    private static func checkedName(_ location: DatabaseLocation) throws -> String {
        guard location.database.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw HubError(.invalidDatabaseURL, "database name '\(location.database)' must be letters, digits and _")
        }
        return location.database
    }
}

/// One concern's part of the hub (`hub.outbox`, `hub.quarantine`, …): its queries and decisions,
/// over the hub's guarded connection and under its policies.
protocol HubStore: Sendable {
    var hub: Hub { get }
}

extension HubStore {
    var logger: Logger { hub.logger }
    var policies: HubPolicies { hub.policies }
    var kinds: RecordKinds { hub.kinds }

    @discardableResult
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> ReadRows {
        try await hub.rows(query, logger: logger)
    }

    func scalar(_ query: PostgresQuery) async throws -> Int {
        try await hub.scalar(query)
    }

    func withTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await hub.withTransaction(isolation: isolation, body)
    }
}
