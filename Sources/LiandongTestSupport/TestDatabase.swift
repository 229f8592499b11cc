import Foundation
import LiandongHub
import LiandongModel
import Logging
import Synchronization

/// The PostgreSQL every test talks to: the server at `LIANDONG_TEST_DATABASE_URL` when set, otherwise
/// one embedded cluster per test process, started by the same launcher the tool uses and stopped
/// when the process exits. Each `withFreshHub` call gets a database of its own, migrated.
///
/// ```swift
/// try await TestDatabase.withFreshHub(policies: .none) { hub in
///     let summary = try await hub.ingest(batch)
///     #expect(summary.inserted == 1)
/// }
/// ```
public enum TestDatabase {
    /// Quiet unless `LIANDONG_TEST_LOG_LEVEL` asks for more.
    public static let logger: Logger = {
        var logger = Logger(label: "liandong.test")
        logger.logLevel =
            ProcessInfo.processInfo.environment["LIANDONG_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }()

    private static let server = Mutex<Result<DatabaseLocation, any Error>?>(nil)

    /// The server's location (database `postgres`), starting the embedded cluster on first use.
    public static func serverLocation() throws -> DatabaseLocation {
        try server.withLock { cached in
            if let cached { return try cached.get() }
            let result = Result { try startServer() }
            cached = result
            return try result.get()
        }
    }

    /// A new, empty, migrated database on the test server.
    public static func makeFreshDatabase() async throws -> DatabaseLocation {
        let name = "test_" + UUID().uuidString.prefix(13).lowercased().replacingOccurrences(of: "-", with: "")
        let location = try serverLocation().with(database: name)
        try await Hub.createDatabaseIfNeeded(at: location, logger: logger)
        _ = try await Hub.withHub(at: location, policies: .none, logger: logger) { try await $0.migrate() }
        return location
    }

    /// Runs `body` with a hub on a fresh database, writing under `policies`.
    public static func withFreshHub<Result: Sendable>(
        policies: HubPolicies, _ body: (Hub) async throws -> Result
    ) async throws -> Result {
        let location = try await makeFreshDatabase()
        return try await Hub.withHub(at: location, policies: policies, logger: logger, body)
    }

    private static func startServer() throws -> DatabaseLocation {
        if let url = ProcessInfo.processInfo.environment["LIANDONG_TEST_DATABASE_URL"], !url.isEmpty {
            return try DatabaseLocation(url: url).with(database: "postgres")
        }
        let directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("liandong-test-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        let embedded = try EmbeddedPostgres(dataDirectory: directory, logger: logger)
        try embedded.start()
        StartedCluster.shared.withLock { $0 = (embedded, directory) }
        atexit {
            guard let (cluster, directory) = StartedCluster.shared.withLock({ $0 }) else { return }
            cluster.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        return embedded.location.with(database: "postgres")
    }
}

/// The cluster this process started, for the exit handler (a C function pointer captures nothing).
private enum StartedCluster {
    static let shared = Mutex<(EmbeddedPostgres, URL)?>(nil)
}
