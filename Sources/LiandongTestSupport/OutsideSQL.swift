import LiandongHub
import PostgresNIO

/// SQL on a test database from outside the hub, as an operator with `psql` would: to count what the
/// hub's API does not show, or to damage rows on purpose. Every statement opens a connection of its
/// own; the hub never hands its client out.
public struct OutsideSQL: Sendable {
    public let location: DatabaseLocation

    public init(_ location: DatabaseLocation) {
        self.location = location
    }

    /// Runs `statements` in order, one at a time, and returns the rows of the last, read in full.
    @discardableResult
    public func execute(_ statements: String...) async throws -> [PostgresRow] {
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: TestDatabase.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            var rows: [PostgresRow] = []
            for sql in statements {
                rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).collect()
            }
            return rows
        }
    }

    /// The first column of the first row of `sql` as an integer; 0 when there is no row.
    public func integer(_ sql: String) async throws -> Int {
        try await execute(sql).first?.decode(Int.self) ?? 0
    }
}
