import Foundation
import LiandongModel
import PostgresNIO

extension QuarantineStore {
    /// Which failures a list, a group count or a bulk action covers. Every member narrows it; nil
    /// members do not. A filter is what the console's URL query holds.
    public struct FailureFilter: Sendable, Codable, Hashable {
        /// The sources the asking user may see (nil: all): applied before everything else.
        public var scope: Set<String>?
        public var source: String?
        public var mapping: String?
        public var rule: String?
        public var path: String?
        /// `open` (the default), `replayed`, `ignored`, or nil for all.
        public var status: String?
        /// Last seen at or after / before.
        public var since: Date?
        public var until: Date?
        /// Text inside the raw payload (in UTF-8 or GB18030), the record's external id or the failures.
        public var text: String?

        /// A filter of open failures narrowed by the members given.
        public init(
            scope: Set<String>? = nil, source: String? = nil, mapping: String? = nil, rule: String? = nil, path: String? = nil,
            status: String? = "open", since: Date? = nil, until: Date? = nil, text: String? = nil
        ) {
            self.scope = scope
            self.source = source
            self.mapping = mapping
            self.rule = rule
            self.path = path
            self.status = status
            self.since = since
            self.until = until
            self.text = text
        }

        /// `head` (a constant `SELECT … FROM mapping_failure m`), this filter's condition on ids below
        /// `before`, then `tail` (a constant `GROUP BY`, `ORDER BY` or `LIMIT`).
        func query(_ head: String, before: Int64? = nil, _ tail: String) -> PostgresQuery {
            let text = text.flatMap { $0.isEmpty ? nil : $0 }
            // The same text as the bytes an agency may have sent it in.
            let utf8 = text.map { ByteBuffer(string: $0) }
            let gb18030 = text.flatMap { $0.data(using: String.Encoding(rawValue: 0x8000_0632)) }.map { ByteBuffer(bytes: $0) }
            let like = text.map { "%" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%" }
            return """
                \(unescaped: head) WHERE (\(before)::bigint IS NULL OR m.id < \(before))
                AND (\(scope.map { Array($0) })::text[] IS NULL OR m.source_system = ANY(\(scope.map { Array($0) })::text[]))
                AND (\(source)::text IS NULL OR m.source_system = \(source))
                AND (\(mapping)::text IS NULL OR m.mapping = \(mapping))
                AND (\(status)::text IS NULL OR m.status = \(status))
                AND (\(since)::timestamptz IS NULL OR m.last_seen >= \(since))
                AND (\(until)::timestamptz IS NULL OR m.last_seen < \(until))
                AND (\(rule)::text IS NULL AND \(path)::text IS NULL OR EXISTS (
                    SELECT 1 FROM jsonb_array_elements(m.failures) f
                    WHERE (\(rule)::text IS NULL OR f ->> 'rule' = \(rule)) AND (\(path)::text IS NULL OR f ->> 'path' = \(path))))
                AND (\(like)::text IS NULL OR m.external_id ILIKE \(like) OR m.failures::text ILIKE \(like)
                     OR EXISTS (SELECT 1 FROM raw_payload p WHERE p.id = m.raw_payload_id
                                AND (position(\(utf8)::bytea IN p.body) > 0 OR position(\(gb18030)::bytea IN p.body) > 0)))
                \(unescaped: tail)
                """
        }
    }

    /// Failures grouped by source, mapping, field path and rule, with counts and first and last seen.
    public struct FailureGroup: Sendable, Codable, Hashable {
        public var source: String
        public var mapping: String
        public var path: String
        public var rule: String
        public var count: Int
        public var firstSeen: Date
        public var lastSeen: Date
        /// Failure ids in this group (the newest 20).
        public var ids: [Int64]
    }

    /// Open failures of `source` (all sources with nil), grouped.
    public func groups(source: String?) async throws -> [FailureGroup] {
        try await groups(FailureFilter(source: source))
    }

    /// The failures `filter` covers, grouped; the 200 largest groups.
    public func groups(_ filter: FailureFilter) async throws -> [FailureGroup] {
        let query = filter.query(
            """
            SELECT m.source_system, m.mapping, f ->> 'path', f ->> 'rule', count(*)::int, min(m.first_seen), max(m.last_seen),
                   (array_agg(m.id ORDER BY m.id DESC))[1:20]
            FROM mapping_failure m, jsonb_array_elements(m.failures) f
            """, "GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3, 4 LIMIT 200")
        var groups: [FailureGroup] = []
        for try await (source, mapping, path, rule, count, first, last, ids) in try await rows(query, logger: logger).decode(
            (String, String, String, String, Int, Date, Date, [Int64]).self)
        {
            groups.append(
                FailureGroup(source: source, mapping: mapping, path: path, rule: rule, count: count, firstSeen: first, lastSeen: last, ids: ids))
        }
        return groups
    }

    /// One failure in a list.
    public struct FailureSummary: Sendable, Codable, Hashable {
        public var id: Int64
        public var status: String
        public var source: String
        public var stream: String
        public var mapping: String
        public var mappingVersion: Int
        public var externalID: String?
        public var failures: [MappingFailure]
        public var firstSeen: Date
        public var lastSeen: Date
        public var seenCount: Int
        public var decidedBy: String?
        public var decisionReason: String?
    }

    /// The failures `filter` covers, newest id first, `limit` of them with ids below `before`.
    public func search(_ filter: FailureFilter, before: Int64? = nil, limit: Int = 50) async throws -> [FailureSummary] {
        let query = filter.query(
            """
            SELECT m.id, m.status, m.source_system, m.stream, m.mapping, m.mapping_version, m.external_id, m.failures::text,
                   m.first_seen, m.last_seen, m.seen_count, m.decided_by, m.decision_reason
            FROM mapping_failure m
            """, before: before, "ORDER BY m.id DESC LIMIT \(max(1, min(limit, 500)))")
        var found: [FailureSummary] = []
        for try await (id, status, source, stream, mapping, version, external, failures, first, last, seen, by, reason)
            in try await rows(query, logger: logger).decode(
                (Int64, String, String, String, String, Int, String?, String, Date, Date, Int, String?, String?).self)
        {
            found.append(
                FailureSummary(
                    id: id, status: status, source: source, stream: stream, mapping: mapping, mappingVersion: version, externalID: external,
                    failures: (try? JSONDecoder().decode([MappingFailure].self, from: Data(failures.utf8))) ?? [], firstSeen: first,
                    lastSeen: last, seenCount: seen, decidedBy: by, decisionReason: reason))
        }
        return found
    }

    /// The ids of the failures `filter` covers, oldest first, at most `limit` (a bulk action's cap):
    /// one more than the cap tells the caller the filter covers too many.
    public func ids(_ filter: FailureFilter, limit: Int) async throws -> [Int64] {
        let query = filter.query("SELECT m.id FROM mapping_failure m", "ORDER BY m.id LIMIT \(max(0, limit))")
        var ids: [Int64] = []
        for try await id in try await rows(query, logger: logger).decode(Int64.self) { ids.append(id) }
        return ids
    }
}
