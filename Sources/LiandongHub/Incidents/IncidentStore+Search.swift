import Foundation
import LiandongModel
import PostgresNIO

extension IncidentStore {
    /// What an incident search narrows by; nil members do not narrow.
    public struct IncidentFilter: Sendable, Codable, Hashable {
        public var type: String?
        public var status: String?
        /// A division code or its prefix (`3301` for every district of Hangzhou).
        public var division: String?
        public var since: Date?
        public var until: Date?
        /// Text in any field (address, content) or a report's external id.
        public var text: String?

        /// A filter narrowed by the members given.
        public init(
            type: String? = nil, status: String? = nil, division: String? = nil, since: Date? = nil, until: Date? = nil, text: String? = nil
        ) {
            self.type = type
            self.status = status
            self.division = division
            self.since = since
            self.until = until
            self.text = text
        }
    }

    /// Incidents not merged away that `filter` covers, highest number first: `limit` of them with
    /// numbers below `before`.
    public func search(_ filter: IncidentFilter, before: Int64? = nil, limit: Int = 50) async throws -> [IncidentSummary] {
        let like = filter.text.flatMap { $0.isEmpty ? nil : "%" + $0.replacingOccurrences(of: "%", with: "\\%") + "%" }
        let division = filter.division.flatMap { $0.isEmpty ? nil : $0 + "%" }
        let rows = try await self.rows(
            """
            SELECT i.no, i.id, i.category, i.incident_type, i.status, i.reported_at, i.data ->> 'address',
                   (SELECT string_agg(x.source_system || ':' || x.external_id, ' ' ORDER BY x.source_system, x.external_id)
                    FROM incident_report r JOIN xref x ON x.entity_id = r.report_id WHERE r.incident_id = i.id),
                   (SELECT count(*)::int FROM conflict c WHERE c.incident_id = i.id AND c.status = 'open')
            FROM incident i
            WHERE i.merged_into IS NULL AND (\(before)::bigint IS NULL OR i.no < \(before))
              AND (\(filter.type)::text IS NULL OR i.incident_type = \(filter.type) OR i.category = \(filter.type))
              AND (\(filter.status)::text IS NULL OR i.status = \(filter.status))
              AND (\(division)::text IS NULL OR i.division_code LIKE \(division))
              AND (\(filter.since)::timestamptz IS NULL OR i.reported_at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR i.reported_at < \(filter.until))
              AND (\(like)::text IS NULL OR i.data::text ILIKE \(like) OR EXISTS (
                    SELECT 1 FROM incident_report r JOIN xref x ON x.entity_id = r.report_id
                    WHERE r.incident_id = i.id AND x.external_id ILIKE \(like)))
            ORDER BY i.no DESC LIMIT \(max(1, min(limit, 500)))
            """, logger: logger)
        var result: [IncidentSummary] = []
        for try await (no, id, category, type, status, reportedAt, address, reports, conflicts) in rows.decode(
            (Int64, UUID, String?, String?, String?, Date?, String?, String?, Int).self)
        {
            result.append(
                IncidentSummary(
                    no: no, id: id, category: category, incidentType: type, status: status, reportedAt: reportedAt, address: address,
                    reports: reports?.split(separator: " ").map(String.init) ?? [], openConflicts: conflicts))
        }
        return result
    }
}
