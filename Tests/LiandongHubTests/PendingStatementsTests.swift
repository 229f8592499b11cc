@testable import LiandongHub
import LiandongTestKit
import LiandongTestSupport
import PostgresNIO
import Testing

/// Writes sent without waiting (`PendingStatements`): they run in the order sent, before any later
/// statement; a failure among them is the error the transaction reports, and nothing commits.
@Suite(.tags(.database), .runsWithDatabase) struct PendingStatementsTests {
    @Test func aLaterReadSeesTheWritesSentBeforeIt() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let seen = try await hub.withIngestTransaction { tx, _ in
                for cursor in ["a", "b", "c"] {
                    tx.pending.send(StreamStore.saveCursorQuery(source: "test", stream: "s", cursor: cursor))
                }
                var cursor = ""
                for try await value in try await tx.conn.guardedQuery(
                    "SELECT cursor FROM stream_cursor WHERE source_system = 'test'", logger: hub.logger
                ).decode(String.self) {
                    cursor = value
                }
                return cursor
            }
            #expect(seen == "c", "sent in order, all before the read")
            let committed = try await hub.streams.cursor(source: "test", stream: "s")
            #expect(committed == "c")
        }
    }

    @Test func aFailedSentStatementIsTheErrorAndNothingCommits() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let error = await #expect(throws: PSQLError.self) {
                try await hub.withIngestTransaction { tx, _ in
                    tx.pending.send(StreamStore.saveCursorQuery(source: "test", stream: "s", cursor: "written"))
                    tx.pending.send("SELECT 1 / 0")
                    // Fails as well, only because the transaction has aborted: not the error to report.
                    try await tx.conn.guardedQuery("SELECT 1", logger: hub.logger)
                }
            }
            let state = error?.serverInfo?[.sqlState]
            #expect(state == "22012", "division by zero, not 'transaction is aborted'")
            let cursor = try await hub.streams.cursor(source: "test", stream: "s")
            #expect(cursor == nil)
        }
    }

    @Test func aBodyThatOnlySentAFailingStatementDoesNotCommit() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            await #expect(throws: PSQLError.self) {
                try await hub.withIngestTransaction { tx, _ in
                    tx.pending.send(StreamStore.saveCursorQuery(source: "test", stream: "s", cursor: "written"))
                    tx.pending.send("SELECT 1 / 0")
                }
            }
            let cursor = try await hub.streams.cursor(source: "test", stream: "s")
            #expect(cursor == nil, "COMMIT of an aborted transaction would have rolled back quietly")
        }
    }
}
