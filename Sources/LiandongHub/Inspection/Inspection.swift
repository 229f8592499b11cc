import Crypto
import Foundation
import LiandongModel
import PostgresNIO

/// What admins look up (`hub.inspection`): counts and digest, one entity, the resource registers.
public struct Inspection: HubStore {
    let hub: Hub
}

extension Inspection {
    /// Counts and a content digest that can be compared between runs.
    public struct Stats: Sendable, Codable {
        /// Entities per kind.
        public var entities: [String: Int]
        /// Entities per source system.
        public var sources: [String: Int]
        /// Warnings that are neither cancelled, superseded nor expired.
        public var activeWarnings: Int
        public var alternateValues: Int
        public var links: Int
        public var rawPayloads: Int
        /// Mapping failures by status.
        public var failures: [String: Int]
        public var auditHead: Int64
        /// Incidents not merged into another.
        public var incidents: Int
        /// Link candidates and conflicts waiting for a person.
        public var openCandidates: Int
        public var openConflicts: Int
        /// SHA-256 over the canonical content of every entity, the set of its losing values, its links,
        /// and every incident (its reports and decided fields), sorted: independent of ingest order,
        /// entity and incident ids and wall-clock times.
        public var digest: String
    }

    /// Computes `Stats`.
    public func stats() async throws -> Stats {
        var entities: [String: Int] = [:]
        var sources: [String: Int] = [:]
        var lines: [String] = []
        for kind in kinds.all {
            var count = 0
            let rows = try await self.rows(
                "SELECT source_system, external_id, encode(content_hash, 'hex'), source_time FROM \(unescaped: kind.rawValue)",
                logger: logger)
            for try await (source, externalID, hash, time) in rows.decode((String, String, String, Date).self) {
                count += 1
                sources[source, default: 0] += 1
                lines.append("E\u{1F}\(kind.rawValue)\u{1F}\(source)\u{1F}\(externalID)\u{1F}\(hash)\u{1F}\(time.canonicalText)")
            }
            entities[kind.rawValue] = count
        }
        // Losing values enter the digest as a set, so that arrival order does not change it: in order,
        // a value is recorded when a newer version replaces it; out of order, when an older version
        // arrives after the winner — the same value may then be recorded at an earlier source time,
        // or be the current value again. Each (field, value, source) counts once, at the latest
        // source time it was held, unless it is the entity's current value.
        for kind in kinds.all {
            let alternateRows = try await self.rows(
                """
                SELECT x.source_system, x.external_id, a.field, a.value::text, a.source_system, max(a.source_time)
                FROM alternate_value a
                JOIN xref x ON x.entity_id = a.entity_id
                JOIN \(unescaped: kind.rawValue) e ON e.id = a.entity_id
                WHERE a.entity_kind = \(kind.rawValue) AND (e.data -> a.field) IS DISTINCT FROM a.value
                GROUP BY 1, 2, 3, 4, 5
                """, logger: logger)
            for try await (source, externalID, field, value, altSource, time) in alternateRows.decode(
                (String, String, String, String, String, Date).self)
            {
                lines.append("A\u{1F}\(source)\u{1F}\(externalID)\u{1F}\(field)\u{1F}\(value)\u{1F}\(altSource)\u{1F}\(time.canonicalText)")
            }
        }
        var links = 0
        let linkRows = try await self.rows(
            """
            SELECT x.source_system, x.external_id, l.link_type, l.target_source, l.target_external_id
            FROM entity_link l JOIN xref x ON x.entity_id = l.from_entity
            """, logger: logger)
        for try await (source, externalID, type, targetSource, target) in linkRows.decode(
            (String, String, String, String, String).self)
        {
            links += 1
            lines.append("L\u{1F}\(source)\u{1F}\(externalID)\u{1F}\(type)\u{1F}\(targetSource)\u{1F}\(target)")
        }
        // Incidents by their reports (not their ids, which a rebuild makes anew) and decided fields.
        let incidentRows = try await self.rows(
            """
            SELECT string_agg(x.source_system || ':' || x.external_id, ' ' ORDER BY x.source_system, x.external_id), i.data::text
            FROM incident i JOIN incident_report r ON r.incident_id = i.id JOIN xref x ON x.entity_id = r.report_id
            WHERE i.merged_into IS NULL GROUP BY i.id, i.data::text
            """, logger: logger)
        for try await (reports, data) in incidentRows.decode((String, String).self) {
            lines.append("I\u{1F}\(reports)\u{1F}\(data)")
        }
        var hasher = SHA256()
        for line in lines.sorted() { hasher.update(data: Data((line + "\n").utf8)) }
        var failures: [String: Int] = ["open": 0, "replayed": 0, "ignored": 0]
        for try await (status, count) in try await self.rows(
            "SELECT status, count(*)::int FROM mapping_failure GROUP BY status", logger: logger
        ).decode((String, Int).self) {
            failures[status] = count
        }
        return Stats(
            entities: entities, sources: sources, activeWarnings: try await scalar("SELECT count(*)::int FROM warning_state WHERE state = 'active'"),
            alternateValues: try await scalar("SELECT count(*)::int FROM alternate_value"), links: links, rawPayloads: try await scalar("SELECT count(*)::int FROM raw_payload"),
            failures: failures, auditHead: Int64(try await scalar("SELECT seq::int FROM audit_head")),
            incidents: try await scalar("SELECT count(*)::int FROM incident WHERE merged_into IS NULL"),
            openCandidates: try await scalar("SELECT count(*)::int FROM link_candidate WHERE status = 'open'"),
            openConflicts: try await scalar("SELECT count(*)::int FROM conflict WHERE status = 'open'"),
            digest: Array(hasher.finalize()).hexString)
    }

    /// One entity with its alternate values and links, as `liandong show` prints it.
    public struct EntityView: Sendable, Codable {
        public var id: UUID
        public var kind: String
        public var source: String
        public var externalID: String
        public var version: Int
        public var sourceTime: Date
        public var mapping: String
        public var updatedAt: Date
        public var fields: FieldValue
        /// For warnings: active, superseded, cancelled or expired.
        public var state: String?
        public var alternates: [Alternate]
        public var links: [Link]

        /// A value that lost, with where it came from.
        public struct Alternate: Sendable, Codable {
            public var field: String
            public var value: FieldValue
            public var source: String
            public var sourceTime: Date
            /// `replaced` (a newer version won) or `older` (it arrived after a newer one).
            public var reason: String
            /// The mapping and version that produced the value (`hotline-12345/work-order@v1`).
            public var mapping: String
        }

        /// A link from or to this entity.
        public struct Link: Sendable, Codable {
            public var direction: String
            public var type: String
            public var source: String
            public var externalID: String
            /// The linked entity when it has arrived.
            public var entityID: UUID?
        }
    }

    /// The id and kind of the entity `reference` names: its id, or `source:external_id`.
    public func resolve(_ reference: String) async throws -> (id: UUID, kind: EntityKind) {
        let query: PostgresQuery
        if let uuid = UUID(uuidString: reference) {
            query = "SELECT entity_id, entity_kind FROM xref WHERE entity_id = \(uuid) LIMIT 1"
        } else if let colon = reference.firstIndex(of: ":") {
            let source = String(reference[..<colon])
            let externalID = String(reference[reference.index(after: colon)...])
            query = "SELECT entity_id, entity_kind FROM xref WHERE source_system = \(source) AND external_id = \(externalID)"
        } else {
            throw HubError(.notFound, "'\(reference)' is neither an entity id (UUID) nor source:external_id")
        }
        for try await (id, kind) in try await self.rows(query, logger: logger).decode((UUID, String).self)
        where kinds.all.map(\.rawValue).contains(kind) {
            return (id, EntityKind(rawValue: kind))
        }
        throw HubError(.notFound, "no entity \(reference)")
    }

    /// Finds an entity by its id or by `source:external_id`.
    public func entity(_ reference: String) async throws -> EntityView {
        let (id, entityKind) = try await resolve(reference)
        let kind = entityKind.rawValue
        var view: EntityView?
        let rows = try await self.rows(
            """
            SELECT source_system, external_id, version, source_time, mapping || '@v' || mapping_version, updated_at, data::text
            FROM \(unescaped: kind) WHERE id = \(id)
            """, logger: logger)
        for try await (source, externalID, version, sourceTime, mapping, updatedAt, data) in rows.decode(
            (String, String, Int, Date, String, Date, String).self)
        {
            view = EntityView(
                id: id, kind: kind, source: source, externalID: externalID, version: version, sourceTime: sourceTime,
                mapping: mapping, updatedAt: updatedAt, fields: try FieldValue(stored: data), state: nil,
                alternates: [], links: [])
        }
        guard var view else { throw HubError(.notFound, "no entity with id \(id.lowercasedText)") }
        if kind == EntityKind.warning.rawValue {
            for try await state in try await self.rows("SELECT state FROM warning_state WHERE id = \(id)", logger: logger)
                .decode(String.self)
            {
                view.state = state
            }
        }
        for try await (field, value, source, time, reason, mapping) in try await self.rows(
            """
            SELECT field, value::text, source_system, source_time, reason, mapping
            FROM alternate_value WHERE entity_id = \(id) ORDER BY id
            """, logger: logger
        ).decode((String, String, String, Date, String, String).self) {
            view.alternates.append(
                .init(
                    field: field, value: try FieldValue(stored: value), source: source, sourceTime: time,
                    reason: reason, mapping: mapping))
        }
        let linkRows = try await self.rows(
            """
            SELECT 'to', l.link_type, l.target_source, l.target_external_id, x.entity_id
            FROM entity_link l LEFT JOIN xref x ON x.source_system = l.target_source AND x.external_id = l.target_external_id
            WHERE l.from_entity = \(id)
            UNION ALL
            SELECT 'from', l.link_type, x.source_system, x.external_id, l.from_entity
            FROM entity_link l JOIN xref x ON x.entity_id = l.from_entity
            WHERE (l.target_source, l.target_external_id) = (\(view.source), \(view.externalID))
            """, logger: logger)
        for try await (direction, type, source, externalID, entity) in linkRows.decode((String, String, String, String, UUID?).self) {
            view.links.append(.init(direction: direction, type: type, source: source, externalID: externalID, entityID: entity))
        }
        return view
    }
}
