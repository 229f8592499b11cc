import Foundation
import LiandongModel
import PostgresNIO

/// Streams and their coordination between instances (`hub.streams`): cursors, runs, leases,
/// schedules and pauses, all in PostgreSQL.
public struct StreamStore: HubStore {
    let hub: Hub
}

/// Leases and stream schedules in PostgreSQL: the only coordination between instances.
extension StreamStore {
    /// The lease name of a stream's sync.
    public static func leaseName(source: String, stream: String) -> String { "stream:\(source)/\(stream)" }

    /// Claims a stream for `holder` when it is due, not paused, and its lease is free or expired (or
    /// already `holder`'s). Rows another instance is claiming right now are skipped, not waited for.
    public func claimStream(source: String, stream: String, holder: String, lease seconds: Double) async throws -> Bool {
        let name = Self.leaseName(source: source, stream: stream)
        return try await withTransaction { conn in
            try await conn.guardedQuery(
                """
                INSERT INTO stream_state (source_system, stream) VALUES (\(source), \(stream)) ON CONFLICT DO NOTHING
                """, logger: logger)
            try await conn.guardedQuery("INSERT INTO lease (name) VALUES (\(name)) ON CONFLICT DO NOTHING", logger: logger)
            let rows = try await conn.guardedQuery(
                """
                SELECT 1 FROM lease l JOIN stream_state s ON (s.source_system, s.stream) = (\(source), \(stream))
                WHERE l.name = \(name) AND NOT s.paused AND s.next_run_at <= now()
                  AND (l.holder IS NULL OR l.expires_at <= now() OR l.holder = \(holder))
                FOR UPDATE OF l SKIP LOCKED
                """, logger: logger)
            var free = false
            for try await _ in rows { free = true }
            guard free else { return false }
            try await conn.guardedQuery(
                """
                UPDATE lease SET holder = \(holder), expires_at = now() + make_interval(secs => \(seconds)),
                    acquired_at = now(), renewed_at = now()
                WHERE name = \(name)
                """, logger: logger)
            return true
        }
    }

    /// Takes the lease `name` for `holder` when it is free, expired or already `holder`'s (a pusher
    /// partition's, `push:<target>`); false when another instance holds it.
    public func claimLease(_ name: String, holder: String, lease seconds: Double) async throws -> Bool {
        try await withTransaction { conn in
            try await conn.guardedQuery("INSERT INTO lease (name) VALUES (\(name)) ON CONFLICT DO NOTHING", logger: logger)
            let rows = try await conn.guardedQuery(
                """
                UPDATE lease SET holder = \(holder), expires_at = now() + make_interval(secs => \(seconds)),
                    acquired_at = CASE WHEN holder = \(holder) THEN acquired_at ELSE now() END, renewed_at = now()
                WHERE name = \(name) AND (holder IS NULL OR expires_at <= now() OR holder = \(holder))
                RETURNING 1
                """, logger: logger)
            for try await _ in rows { return true }
            return false
        }
    }

    /// Extends `holder`'s lease; false when it expired or another instance holds it now (stop working).
    public func renewLease(_ name: String, holder: String, lease seconds: Double) async throws -> Bool {
        let rows = try await self.rows(
            """
            UPDATE lease SET expires_at = now() + make_interval(secs => \(seconds)), renewed_at = now()
            WHERE name = \(name) AND holder = \(holder) AND expires_at > now() RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Gives a lease up at once.
    public func releaseLease(_ name: String, holder: String) async throws {
        try await self.rows(
            "UPDATE lease SET holder = NULL, expires_at = '-infinity' WHERE name = \(name) AND holder = \(holder)", logger: logger)
    }

    /// Records how a stream's run ended and when it runs next.
    public func finishStreamRun(source: String, stream: String, holder: String, error: String?, nextRun: Date) async throws {
        try await self.rows(
            """
            UPDATE stream_state SET last_run_at = now(), next_run_at = \(nextRun), last_holder = \(holder),
                last_ok_at = CASE WHEN \(error == nil) THEN now() ELSE last_ok_at END,
                consecutive_failures = CASE WHEN \(error == nil) THEN 0 ELSE consecutive_failures + 1 END,
                last_error = \(error)
            WHERE (source_system, stream) = (\(source), \(stream))
            """, logger: logger)
    }

    /// The failures in a row a stream has had (to back off by).
    public func consecutiveFailures(source: String, stream: String) async throws -> Int {
        try await scalar(
            "SELECT coalesce(max(consecutive_failures), 0)::int FROM stream_state WHERE (source_system, stream) = (\(source), \(stream))")
    }

    /// Pauses or resumes a stream (known or not yet run), audited with who and why.
    public func setPaused(source: String, stream: String, _ paused: Bool, by actor: ActingUser) async throws {
        try await hub.withIngestTransaction { tx, head in
            try await tx.conn.guardedQuery(
                """
                INSERT INTO stream_state (source_system, stream, paused) VALUES (\(source), \(stream), \(paused))
                ON CONFLICT (source_system, stream) DO UPDATE SET paused = EXCLUDED.paused
                """, logger: logger)
            tx.append(
                [
                    AuditDraft(
                        action: paused ? .streamPause : .streamResume, entityKind: "stream", entityID: "\(source)/\(stream)",
                        content: [:]
                    ).signed(by: actor)
                ], after: head)
        }
    }

    /// One stream as `streams list` shows it.
    public struct StreamStatus: Sendable, Codable {
        public var source: String
        public var stream: String
        public var paused: Bool
        public var lastRun: Date?
        public var lastSuccess: Date?
        public var nextRun: Date?
        /// Seconds from the newest source time this stream has pulled to now.
        public var lagSeconds: Double?
        public var consecutiveFailures: Int
        public var lastError: String?
        /// The instance holding the stream's lease now, if any.
        public var holder: String?
        /// The instance that ran it last.
        public var lastHolder: String?
        public var leaseExpires: Date?
    }

    /// Every stream the scheduler has seen.
    public func statuses() async throws -> [StreamStatus] {
        let query: PostgresQuery = """
                SELECT s.source_system, s.stream, s.paused, s.last_run_at, s.last_ok_at,
                       CASE WHEN s.next_run_at = '-infinity' THEN NULL ELSE s.next_run_at END,
                       extract(epoch FROM now() - s.newest_source_time)::float8, s.consecutive_failures, s.last_error,
                       CASE WHEN l.expires_at > now() THEN l.holder END, s.last_holder,
                       CASE WHEN l.expires_at > now() THEN l.expires_at END
                FROM stream_state s
                LEFT JOIN lease l ON l.name = 'stream:' || s.source_system || '/' || s.stream
                ORDER BY s.source_system, s.stream
                """
        var result: [StreamStatus] = []
        for try await (source, stream, paused, lastRun, lastOK, nextRun, lag, failures, error, holder, lastHolder, expires)
            in try await self.rows(query, logger: logger).decode(
                (String, String, Bool, Date?, Date?, Date?, Double?, Int, String?, String?, String?, Date?).self)
        {
            result.append(
                StreamStatus(
                    source: source, stream: stream, paused: paused, lastRun: lastRun, lastSuccess: lastOK, nextRun: nextRun,
                    lagSeconds: lag, consecutiveFailures: failures, lastError: error, holder: holder, lastHolder: lastHolder,
                    leaseExpires: expires))
        }
        return result
    }
}
