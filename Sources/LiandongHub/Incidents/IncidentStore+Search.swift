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
        /// Any part of the address, or a report's whole number (its external id at any source).
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
    /// numbers below `before`. The text is looked up in the address through its trigram index and as a
    /// report number of each of `sources` through xref's key. When that finds few incidents (up to
    /// `Self.fewHits`), only those are read; when it finds many, the newest incidents are read in order
    /// until a page is full, which then comes soon.
    public func search(
        _ filter: IncidentFilter, sources: [String] = [], before: Int64? = nil, limit: Int = 50
    ) async throws -> [IncidentSummary] {
        let text = filter.text.flatMap { $0.isEmpty ? nil : $0 }
        let like = text.map { "%" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%" }
        var hits: [UUID]?
        if let like, let text {
            var found: [UUID] = []
            let rows = try await self.rows(
                """
                (SELECT id FROM incident WHERE merged_into IS NULL AND data ->> 'address' ILIKE \(like) LIMIT \(Self.fewHits + 1))
                UNION
                SELECT r.incident_id FROM xref x JOIN incident_report r ON r.report_id = x.entity_id
                WHERE x.source_system = ANY(\(sources)::text[]) AND x.external_id = \(text)
                """, logger: logger)
            for try await id in rows.decode(UUID.self) { found.append(id) }
            if found.count <= Self.fewHits { hits = found }
        }
        let division = filter.division.flatMap { $0.isEmpty || !$0.allSatisfy(\.isNumber) ? nil : $0 + "%" }
        return try await summaries(
            try await self.rows(
            """
            \(unescaped: Self.summarySelect)
            WHERE i.merged_into IS NULL AND (\(before)::bigint IS NULL OR i.no < \(before))
              AND (\(filter.type)::text IS NULL OR i.incident_type = \(filter.type) OR i.category = \(filter.type))
              AND (\(filter.status)::text IS NULL OR i.status = \(filter.status))
              AND (\(division)::text IS NULL OR i.division_code LIKE \(division))
              AND (\(filter.since)::timestamptz IS NULL OR i.reported_at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR i.reported_at < \(filter.until))
              AND (\(hits)::uuid[] IS NULL OR i.id = ANY(\(hits)::uuid[]))
              AND (\(hits)::uuid[] IS NOT NULL OR \(like)::text IS NULL OR i.data ->> 'address' ILIKE \(like) OR i.id IN (
                    SELECT r.incident_id FROM xref x JOIN incident_report r ON r.report_id = x.entity_id
                    WHERE x.source_system = ANY(\(sources)::text[]) AND x.external_id = \(text)))
            ORDER BY i.no DESC LIMIT \(max(1, min(limit, 500)))
            """, logger: logger))
    }

    /// Up to this many incidents matching a text are read by id rather than in order.
    static let fewHits = 2000
}
