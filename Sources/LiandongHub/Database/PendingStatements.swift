import Logging
import NIOCore
import PostgresNIO

/// Statements of one transaction handed to the connection without waiting for their answers, so that
/// the hub prepares the next statement (hashing the audit chain, projecting deliveries) while
/// PostgreSQL runs the ones before.
///
/// PostgresNIO runs a connection's statements one at a time in the order they were handed to it, so a
/// statement sent here has finished before any later statement on the connection starts (a later
/// read sees its writes). `settle` waits for all of them and throws the first failure. A transaction
/// must settle before `COMMIT`: in a transaction a failed statement has aborted, `COMMIT` quietly
/// rolls back. `Hub.withIngestTransaction` does both.
final class PendingStatements {
    let conn: PostgresConnection
    let logger: Logger
    private var sent: [EventLoopFuture<PostgresQueryResult>] = []

    init(conn: PostgresConnection, logger: Logger) {
        self.conn = conn
        self.logger = logger
    }

    /// Hands `query` to the connection now; its rows, when wanted, come with `rows(of:)`.
    @discardableResult
    func send(_ query: PostgresQuery) -> EventLoopFuture<PostgresQueryResult> {
        let future: EventLoopFuture<PostgresQueryResult> = conn.query(query, logger: logger)
        sent.append(future)
        return future
    }

    /// The rows of a statement sent before, once it has run (failing like `guardedQuery` when the
    /// connection closes first).
    func rows(of statement: EventLoopFuture<PostgresQueryResult>) async throws -> PostgresQueryResult {
        try await ConnectionGuard.guarded(conn) { try await statement.get() }
    }

    /// Waits until every statement sent so far has run; throws the first one's failure.
    func settle() async throws {
        let waiting = sent
        sent = []
        guard !waiting.isEmpty else { return }
        try await ConnectionGuard.guarded(conn) {
            var failure: (any Error)?
            for statement in waiting {
                do { _ = try await statement.get() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
        }
    }
}
