import LiandongModel
import Logging
import PostgresNIO
import Synchronization

/// Keeps the planner's statistics current while a load grows the tables faster than autovacuum
/// looks at them (once a minute, after 10 % growth). A hub starting empty plans every statement for
/// near-empty tables: a join by `xref.entity_id` stayed a sequential scan per incident, and each page
/// of a backfill took longer than the one before (0.1 s → 0.6 s for that one statement after 5,000
/// records; 5 ms after an `ANALYZE`). So the hub analyzes its tables itself after 1,000 records written
/// by this process, then each time that count doubles: a few dozen times in a lifetime, never in the
/// steady state autovacuum handles.
final class TableStatistics: Sendable {
    private let written = Mutex<(count: Int, analyzeAt: Int)>((0, 1000))

    /// Counts `records` written; true when the tables should be analyzed now.
    func recordWrites(_ records: Int) -> Bool {
        written.withLock { state in
            state.count += records
            guard state.count >= state.analyzeAt else { return false }
            state.analyzeAt = state.count * 2
            return true
        }
    }

    /// The tables ingest writes and identity resolution reads.
    static let tables =
        ["raw_payload", "xref", "alternate_value", "entity_link", "mapping_failure", "audit_entry", "incident",
         "incident_report", "incident_alternate", "link_candidate", "conflict", "outbox", "transfer", "callout"]
        + EntityKind.all.map(\.rawValue)
}

extension Hub {
    /// Analyzes the hub's tables when this process has written enough since the last time (see
    /// `TableStatistics`). A failure only costs speed: it is logged, not thrown.
    func keepStatisticsCurrent(afterWriting records: Int) async {
        guard statistics.recordWrites(records) else { return }
        do {
            try await self.rows(
                PostgresQuery(unsafeSQL: "ANALYZE " + TableStatistics.tables.joined(separator: ", ")), logger: logger)
        } catch {
            logger.warning("Could not analyze the hub's tables", metadata: ["liandong.error": "\(error)"])
        }
    }
}
