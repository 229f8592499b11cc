@testable import LiandongHub
import LiandongTestKit
import LiandongTestSupport
import PostgresNIO
import Testing

/// The server ending a connection in the middle of the hub's work: the work fails and the hub goes
/// on, rather than waiting forever (PostgresNIO 1.33.2 drops a statement written to a closed
/// connection without failing it; see `ConnectionGuard`).
@Suite(.tags(.database), .runsWithDatabase) struct ConnectionLossTests {
    @Test(.timeLimit(.minutes(1))) func aTransactionWhoseConnectionIsEndedFails() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let error = await #expect(throws: HubError.self) {
                try await hub.withTransaction { connection in
                    let pid = try await Self.backendPID(of: connection, hub)
                    try await hub.rows("SELECT pg_terminate_backend(\(pid))", logger: hub.logger)
                    // The server's FATAL and the close arrive before the next statement is written.
                    try await Task.sleep(for: .milliseconds(300))
                    try await connection.guardedQuery("SELECT 1", logger: hub.logger)
                }
            }
            #expect(error?.code == .connectionLost)
            let stats = try await hub.inspection.stats()
            #expect(stats.entities.values.reduce(0, +) == 0, "the hub answers on a new connection")
        }
    }

    static func backendPID(of connection: PostgresConnection, _ hub: Hub) async throws -> Int32 {
        for try await pid in try await connection.guardedQuery("SELECT pg_backend_pid()", logger: hub.logger).decode(Int32.self) {
            return pid
        }
        return 0
    }
}
