import Foundation
import LiandongModel
import PostgresNIO

extension Inspection {
    /// What the console's overview counts: each from an index or a small table, never a scan of the
    /// records, so the page stays fast on a hub of millions.
    public struct Overview: Sendable, Codable {
        /// Open mapping failures by source and mapping.
        public var openFailures: [MappingCount]
        /// Deliveries not delivered, by receiver and status (`pending`, `failed`, `dead`, …).
        public var deliveries: [String: [String: Int]]
        public var openCandidates: Int
        public var openConflicts: Int
        public var overdueTransfers: Int
        public var overdueInstructions: Int
        public var unacknowledgedCallouts: Int
        public var auditHead: Int64

        /// One mapping's open failures.
        public struct MappingCount: Sendable, Codable, Hashable {
            public var source: String
            public var mapping: String
            public var count: Int
        }
    }

    /// The counts of the console's overview; failures only of `sources` (nil: all).
    public func overview(sources: Set<String>? = nil) async throws -> Overview {
        var failures: [Overview.MappingCount] = []
        let scope = sources.map { Array($0) }
        let rows = try await self.rows(
            """
            SELECT source_system, mapping, count(*)::int FROM mapping_failure
            WHERE status = 'open' AND (\(scope)::text[] IS NULL OR source_system = ANY(\(scope)::text[]))
            GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
            """, logger: logger)
        for try await (source, mapping, count) in rows.decode((String, String, Int).self) {
            failures.append(.init(source: source, mapping: mapping, count: count))
        }
        return Overview(
            openFailures: failures, deliveries: try await OutboxStore(hub: hub).undeliveredCounts(),
            openCandidates: try await scalar("SELECT count(*)::int FROM link_candidate WHERE status = 'open'"),
            openConflicts: try await scalar("SELECT count(*)::int FROM conflict WHERE status = 'open'"),
            overdueTransfers: try await scalar(
                """
                SELECT count(*)::int FROM transfer WHERE returned_at IS NULL AND feedback IS NULL
                  AND ((accepted_at IS NULL AND now() > accept_deadline) OR now() > feedback_deadline)
                """),
            overdueInstructions: try await scalar(
                "SELECT count(*)::int FROM instruction_receipt WHERE feedback IS NULL AND now() > feedback_deadline"),
            unacknowledgedCallouts: try await scalar("SELECT count(*)::int FROM callout WHERE acknowledged_at IS NULL"),
            auditHead: Int64(try await scalar("SELECT seq FROM audit_head WHERE id = 1")))
    }

    /// One minute of sync activity: records pulled by the runs that started in it, and the largest lag
    /// (run end to the newest source time it pulled) among them.
    public struct ActivityMinute: Sendable, Codable, Hashable {
        public var minute: Date
        public var records: Int
        public var lagSeconds: Double?
    }

    /// Sync activity per minute since `since` (runs by their start), for the overview's charts.
    public func activity(since: Date) async throws -> [ActivityMinute] {
        var minutes: [ActivityMinute] = []
        let rows = try await self.rows(
            """
            SELECT date_trunc('minute', started_at), sum(pulled)::int,
                   max(extract(epoch FROM finished_at - newest_source_time))::float8
            FROM sync_run WHERE started_at >= \(since) GROUP BY 1 ORDER BY 1
            """, logger: logger)
        for try await (minute, records, lag) in rows.decode((Date, Int, Double?).self) {
            minutes.append(ActivityMinute(minute: minute, records: records, lagSeconds: lag))
        }
        return minutes
    }
}
