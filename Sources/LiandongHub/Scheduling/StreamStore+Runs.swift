import Foundation
import LiandongModel
import PostgresNIO

/// Stream cursors and the record of sync runs.
extension StreamStore {
    /// Moves a stream's cursor on without ingesting (past pages stored before).
    public func saveCursor(source: SourceSystemID, stream: String, cursor: String) async throws {
        try await self.rows(Self.saveCursorQuery(source: source, stream: stream, cursor: cursor), logger: logger)
    }

    static func saveCursorQuery(source: SourceSystemID, stream: String, cursor: String) -> PostgresQuery {
        """
        INSERT INTO stream_cursor (source_system, stream, cursor) VALUES (\(source.rawValue), \(stream), \(cursor))
        ON CONFLICT (source_system, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()
        """
    }

    /// The cursor stored for a stream, if any.
    public func cursor(source: SourceSystemID, stream: String) async throws -> String? {
        let rows = try await self.rows(
            "SELECT cursor FROM stream_cursor WHERE source_system = \(source.rawValue) AND stream = \(stream)",
            logger: logger)
        for try await cursor in rows.decode(String.self) { return cursor }
        return nil
    }
}

extension StreamStore {
    /// The counts of one sync of one stream, stored in `sync_run`.
    public struct SyncRunRecord: Sendable, Codable {
        public var source: String
        public var stream: String
        public var startedAt: Date
        public var finishedAt: Date
        public var pulled: Int
        public var batches: Int
        public var summary: IngestSummary
        public var error: String?
        /// The newest source time among the records the run pulled, if it pulled any.
        public var newestSourceTime: Date?

        public init(
            source: String, stream: String, startedAt: Date, finishedAt: Date, pulled: Int, batches: Int,
            summary: IngestSummary, error: String?
        ) {
            self.source = source
            self.stream = stream
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.pulled = pulled
            self.batches = batches
            self.summary = summary
            self.error = error
        }
    }

    /// Stores one sync run, and the newest source time its stream has seen (its lag's start).
    public func record(_ run: SyncRunRecord) async throws {
        let s = run.summary
        if let newest = run.newestSourceTime {
            try await self.rows(
                """
                INSERT INTO stream_state (source_system, stream, newest_source_time) VALUES (\(run.source), \(run.stream), \(newest))
                ON CONFLICT (source_system, stream) DO UPDATE
                SET newest_source_time = greatest(stream_state.newest_source_time, EXCLUDED.newest_source_time)
                """, logger: logger)
        }
        try await self.rows(
            """
            INSERT INTO sync_run (source_system, stream, started_at, finished_at, pulled, unchanged, inserted, updated, older,
                                  linked, failures, batches, error, newest_source_time)
            VALUES (\(run.source), \(run.stream), \(run.startedAt), \(run.finishedAt), \(run.pulled), \(s.unchanged), \(s.inserted),
                    \(s.updated), \(s.older), \(s.linked), \(s.failures), \(run.batches), \(run.error), \(run.newestSourceTime))
            """, logger: logger)
    }
}
