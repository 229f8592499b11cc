import Logging
import PostgresNIO
import Synchronization

/// Ends the hub's work on a connection as soon as that connection closes.
///
/// PostgresNIO 1.33.2 hands a query (and a `LISTEN`) to the connection's channel without a write
/// promise. When the channel has already closed — the server restarted between two statements of
/// a transaction, or just after the pool leased the connection — the query is dropped and its caller
/// waits forever; `withTransaction` then waits on its `ROLLBACK` the same way. (Seen as `serve`
/// stalling for good after a PostgreSQL restart.) Every statement the hub sends therefore goes
/// through `guarded`, which runs it in a task of its own and resumes the caller with
/// `HubError(.connectionLost)` as soon as the connection closes, whichever comes first. A dropped
/// statement's task stays suspended (one small task per dropped statement, only when a
/// connection dies); cancelling the caller cancels it.
enum ConnectionGuard {
    /// The failers of the operations in flight, per open connection. A connection's entry goes when
    /// it closes, so the table holds open connections only.
    private static let inFlight = Mutex<(next: Int, byConnection: [ObjectIdentifier: [Int: @Sendable () -> Void]])>(
        (0, [:]))

    /// Runs `operation` on `connection`; fails with `HubError(.connectionLost)` once the connection
    /// closes, even if `operation` never returns.
    static func guarded<Value: Sendable>(
        _ connection: PostgresConnection, _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let key = ObjectIdentifier(connection)
        let outcome = Outcome<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.await(continuation)
                let (ticket, firstOnConnection) = inFlight.withLock { state in
                    state.next += 1
                    let first = state.byConnection[key] == nil
                    state.byConnection[key, default: [:]][state.next] = {
                        outcome.finish(.failure(HubError(.connectionLost, "the database connection closed during a statement")))
                    }
                    return (state.next, first)
                }
                // On a connection that has closed already this runs at once.
                if firstOnConnection { connection.closeFuture.whenComplete { _ in failAll(on: key) } }
                outcome.task = Task {
                    let result = await Result(catching: operation)
                    inFlight.withLock { state in _ = state.byConnection[key]?.removeValue(forKey: ticket) }
                    outcome.finish(result)
                }
            }
        } onCancel: {
            outcome.cancel()
        }
    }

    private static func failAll(on key: ObjectIdentifier) {
        let failers = inFlight.withLock { $0.byConnection.removeValue(forKey: key) } ?? [:]
        for fail in failers.values { fail() }
    }

    /// One operation's continuation, resumed once by whichever finishes first.
    private final class Outcome<Value: Sendable>: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<Value, any Error>?, task: Task<Void, Never>?, cancelled: Bool)>(
            (nil, nil, false))

        func await(_ continuation: CheckedContinuation<Value, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        var task: Task<Void, Never>? {
            get { state.withLock { $0.task } }
            set {
                let cancelled = state.withLock { state in
                    state.task = newValue
                    return state.cancelled
                }
                if cancelled { newValue?.cancel() }
            }
        }

        func finish(_ result: Result<Value, any Error>) {
            state.withLock { state in
                defer { state.continuation = nil }
                return state.continuation
            }?.resume(with: result)
        }

        func cancel() {
            state.withLock { state in
                state.cancelled = true
                return state.task
            }?.cancel()
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension PostgresConnection {
    /// `query(_:logger:)` that fails with `HubError(.connectionLost)` when the connection closes
    /// before or during the statement, instead of waiting forever (see `ConnectionGuard`).
    @discardableResult
    func guardedQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await ConnectionGuard.guarded(self) { try await self.query(query, logger: logger) }
    }
}

extension Hub {
    /// The rows of `query`, run on a pooled connection and read in full before the connection goes
    /// back to the pool. Used instead of `client.query`, which can wait forever when the pool hands
    /// out a connection that is closing (see `ConnectionGuard`).
    @discardableResult
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> ReadRows {
        try await client.withConnection { connection in
            ReadRows(rows: try await connection.guardedQuery(query, logger: logger).collect())
        }
    }
}

extension Hub {
    /// The first row's first column as an integer; 0 when there is no row.
    func scalar(_ query: PostgresQuery) async throws -> Int {
        for try await value in try await self.rows(query, logger: logger).decode(Int.self) { return value }
        return 0
    }
}

/// Rows read in full, iterated like PostgresNIO's row sequence (`decode` works on both).
struct ReadRows: AsyncSequence, Sendable {
    typealias Element = PostgresRow
    var rows: [PostgresRow]

    func makeAsyncIterator() -> IndexingIterator<[PostgresRow]>.Async { .init(base: rows.makeIterator()) }
}

extension IndexingIterator {
    /// An array's iterator as an `AsyncIteratorProtocol`.
    struct Async: AsyncIteratorProtocol {
        var base: IndexingIterator<Elements>
        mutating func next() async -> Element? { base.next() }
    }
}
