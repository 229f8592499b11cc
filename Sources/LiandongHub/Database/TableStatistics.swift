import LiandongModel
import Logging
import PostgresNIO
import Synchronization

/// Keeps the planner's statistics current while a load grows the tables faster than autovacuum
/// looks at them (once a minute, after 10 % growth). A hub starting empty plans every statement for
/// near-empty tables: a join by `xref.entity_id` stayed a sequential scan per incident, and each page
/// of a backfill took longer than the one before (0.1 s → 0.6 s for that one statement after 5,000
/// records; 5 ms after an `ANALYZE`). So after every 1,000 records this process writes, the hub asks
/// PostgreSQL which of its tables changed by half their size or more since they were last analyzed
/// (`pg_stat_user_tables.n_mod_since_analyze`) and analyzes those: during a backfill each table is
/// analyzed each time it doubles; in the steady state, and for big tables a small load touches,
/// nothing is done and autovacuum's analyze is left to do its work. These analyzes sample 3,000
/// rows (statistics target 10) instead of 30,000: row counts and distinct values are all the load's
/// plans need, and reading every page of tables of 1.5 kB rows had made them a fifth of PostgreSQL's
/// time in a backfill (autovacuum's own analyze, later, uses the server's target).
final class TableStatistics: Sendable {
    private let written = Mutex(0)
    /// Records written between two looks at the tables' statistics.
    static let interval = 1000
    /// The statistics target of these analyzes (`default_statistics_target`; PostgreSQL's is 100).
    static let target = 10

    /// Counts `records` written; true when another `interval` of them has been written.
    func recordWrites(_ records: Int) -> Bool {
        written.withLock { count in
            let before = count / Self.interval
            count += records
            return count / Self.interval > before
        }
    }

    /// The tables ingest writes and identity resolution reads, with the tables of `kinds`.
    static func tables(_ kinds: RecordKinds) -> [String] {
        ["raw_payload", "xref", "alternate_value", "entity_link", "mapping_failure", "audit_entry", "incident",
         "incident_report", "incident_alternate", "link_candidate", "conflict", "outbox", "transfer", "callout"]
            + kinds.all.map(\.rawValue)
    }
}

extension Hub {
    /// Analyzes the hub's tables that grew by half or more since their last analyze, once per
    /// `TableStatistics.interval` records written (see `TableStatistics`). A failure only costs speed:
    /// it is logged, not thrown.
    func keepStatisticsCurrent(afterWriting records: Int) async {
        guard statistics.recordWrites(records) else { return }
        do {
            var stale: [String] = []
            for try await table in try await self.rows(
                """
                SELECT relname::text FROM pg_stat_user_tables
                WHERE relname = ANY(\(TableStatistics.tables(kinds))::text[]) AND n_mod_since_analyze >= \(TableStatistics.interval)
                  AND n_mod_since_analyze * 2 >= n_live_tup
                ORDER BY relname
                """, logger: logger
            ).decode(String.self) {
                stale.append(table)
            }
            guard !stale.isEmpty else { return }
            try await withTransaction { connection in
                try await connection.guardedQuery(
                    PostgresQuery(unsafeSQL: "SET LOCAL default_statistics_target = \(TableStatistics.target)"), logger: logger)
                // The names come from the fixed list above, never from input.
                try await connection.guardedQuery(PostgresQuery(unsafeSQL: "ANALYZE " + stale.joined(separator: ", ")), logger: logger)
            }
        } catch {
            logger.warning("Could not analyze the hub's tables", metadata: ["liandong.error": "\(error)"])
        }
    }
}
