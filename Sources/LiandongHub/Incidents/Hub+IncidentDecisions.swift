import Foundation
import LiandongModel
import PostgresNIO

/// What admins decide about incidents: split, merge, link candidates and conflicts. Each decision is
/// one transaction, audited, and recorded in `identity_decision` so that a rebuild re-applies it.
extension Hub {
    /// Takes a report out of its incident into an incident of its own; both are recomputed.
    /// Returns the new incident's number.
    @discardableResult
    public func split(report reference: String) async throws -> Int64 {
        try await decide { conn, resolver in
            let report = try await Self.report(reference, conn: conn, logger: logger)
            let members = try await Self.members(of: report.incident, conn: conn, logger: logger)
            guard members.count > 1 else {
                throw HubError(.invalidState, "\(report.key) is the only report of its incident: nothing to split")
            }
            let (new, number) = try await Self.createIncident(conn: conn, logger: logger)
            try await conn.query(
                """
                UPDATE incident_report SET incident_id = \(new), reason = 'split', score = NULL, linked_at = now()
                WHERE report_id = \(report.id)
                """, logger: logger)
            try await conn.query("INSERT INTO identity_decision (action, report) VALUES ('split', \(report.key))", logger: logger)
            var drafts = [
                AuditDraft(
                    action: "incident.split", entityKind: EntityKind.incident.rawValue, entityID: report.incident.lowercasedText,
                    content: ["report": .string(report.key), "to": .string(new.lowercasedText)]),
                AuditDraft(
                    action: "incident.link", entityKind: EntityKind.incident.rawValue, entityID: new.lowercasedText,
                    content: ["report": .string(report.key), "reason": .string("split"), "from": .string(report.incident.lowercasedText)]),
            ]
            drafts += try await resolver.recompute([report.incident, new])
            return (number, drafts)
        }
    }

    /// Moves every report of incident `other` into `target`; `other` is kept, marked merged. Returns
    /// the target's number.
    @discardableResult
    public func merge(_ target: String, _ other: String) async throws -> Int64 {
        try await decide { conn, resolver in
            let a = try await Self.incident(target, conn: conn, logger: logger)
            let b = try await Self.incident(other, conn: conn, logger: logger)
            let drafts = try await Self.merge(b.id, into: a.id, record: true, conn: conn, logger: logger, resolver: resolver)
            return (a.no, drafts)
        }
    }

    /// Accepts a link candidate: the report's incident is merged into the candidate incident.
    public func acceptCandidate(_ id: Int64) async throws {
        try await decide { conn, resolver in
            let candidate = try await Self.openCandidate(id, conn: conn, logger: logger)
            var drafts: [AuditDraft] = []
            if let current = try await Self.incidentOf(report: candidate.report, conn: conn, logger: logger), current != candidate.incident {
                drafts += try await Self.merge(current, into: candidate.incident, record: true, conn: conn, logger: logger, resolver: resolver)
            }
            try await conn.query(
                "UPDATE link_candidate SET status = 'accepted', decided_at = now() WHERE id = \(id)", logger: logger)
            drafts.append(
                AuditDraft(
                    action: "candidate.accept", entityKind: EntityKind.incident.rawValue, entityID: candidate.incident.lowercasedText,
                    content: ["candidate": .number(Double(id))]))
            return ((), drafts)
        }
    }

    /// Rejects a link candidate: the report stays in its own incident.
    public func rejectCandidate(_ id: Int64) async throws {
        try await decide { conn, _ in
            let candidate = try await Self.openCandidate(id, conn: conn, logger: logger)
            try await conn.query(
                "UPDATE link_candidate SET status = 'rejected', decided_at = now() WHERE id = \(id)", logger: logger)
            try await conn.query(
                """
                INSERT INTO identity_decision (action, report, other_report)
                SELECT 'reject', x.source_system || ':' || x.external_id, \(try await Self.representative(of: candidate.incident, conn: conn, logger: logger))
                FROM xref x WHERE x.entity_id = \(candidate.report)
                """, logger: logger)
            return (
                (),
                [
                    AuditDraft(
                        action: "candidate.reject", entityKind: EntityKind.incident.rawValue, entityID: candidate.incident.lowercasedText,
                        content: ["candidate": .number(Double(id))])
                ]
            )
        }
    }

    /// Decides a conflict with `value` (JSON, or plain text taken as a string). The value holds until
    /// the disagreement changes (a new value from either side opens a new conflict).
    public func resolveConflict(_ id: Int64, value text: String) async throws {
        let value = (try? FieldValue(jsonText: text)) ?? .string(text)
        try await decide { conn, resolver in
            var found: (UUID, String, String)?
            for try await row in try await conn.query(
                "SELECT incident_id, key, field FROM conflict WHERE id = \(id) AND status = 'open' FOR UPDATE", logger: logger
            ).decode((UUID, String, String).self) {
                found = row
            }
            guard let (incident, key, field) = found else { throw HubError(.notFound, "no open conflict \(id)") }
            try await conn.query(
                "INSERT INTO identity_decision (action, conflict_key, value) VALUES ('resolve', \(key), \(value.canonicalJSON)::jsonb)",
                logger: logger)
            try await conn.query(
                """
                UPDATE conflict SET status = 'resolved', resolution = \(value.canonicalJSON)::jsonb, decided_at = now() WHERE id = \(id)
                """, logger: logger)
            var drafts = [
                AuditDraft(
                    action: "conflict.resolve", entityKind: EntityKind.incident.rawValue, entityID: incident.lowercasedText,
                    content: ["conflict": .number(Double(id)), "field": .string(field), "value": value])
            ]
            drafts += try await resolver.recompute([incident])
            return ((), drafts)
        }
    }

    /// Re-applies every recorded split, merge and rejection in order (conflict choices apply by
    /// themselves whenever the same disagreement is computed): what a rebuild does last.
    public func reapplyDecisions() async throws {
        try await decide { conn, resolver in
            var drafts: [AuditDraft] = []
            var decisions: [(String, String?, String?)] = []
            for try await row in try await conn.query(
                "SELECT action, report, other_report FROM identity_decision WHERE action <> 'resolve' ORDER BY id", logger: logger
            ).decode((String, String?, String?).self) {
                decisions.append(row)
            }
            for (action, report, other) in decisions {
                guard let report, let a = try? await Self.report(report, conn: conn, logger: logger) else { continue }
                switch action {
                case "split":
                    guard try await Self.members(of: a.incident, conn: conn, logger: logger).count > 1 else { continue }
                    let (new, _) = try await Self.createIncident(conn: conn, logger: logger)
                    try await conn.query(
                        "UPDATE incident_report SET incident_id = \(new), reason = 'split', score = NULL WHERE report_id = \(a.id)",
                        logger: logger)
                    drafts += try await resolver.recompute([a.incident, new])
                case "merge":
                    guard let other, let b = try? await Self.report(other, conn: conn, logger: logger), a.incident != b.incident else { continue }
                    drafts += try await Self.merge(b.incident, into: a.incident, record: false, conn: conn, logger: logger, resolver: resolver)
                default:
                    guard let other, let b = try? await Self.report(other, conn: conn, logger: logger) else { continue }
                    try await conn.query(
                        """
                        UPDATE link_candidate SET status = 'rejected', decided_at = now()
                        WHERE report_id = \(a.id) AND incident_id = \(b.incident) AND status = 'open'
                        """, logger: logger)
                }
            }
            return ((), drafts)
        }
    }

    // MARK: - Helpers

    /// Runs an admin decision in one transaction with the audit chain locked.
    func decide<T: Sendable>(
        _ body: (PostgresConnection, IncidentResolver) async throws -> (T, [AuditDraft])
    ) async throws -> T {
        try await withTransaction { conn in
            let tx = IngestTransaction(conn: conn, logger: logger)
            let head = try await tx.lockAuditHead()
            let (result, drafts) = try await body(conn, IncidentResolver(conn: conn, logger: logger, policy: policy))
            try await tx.append(drafts, after: head)
            return result
        }
    }

    static func merge(
        _ other: UUID, into target: UUID, record: Bool, conn: PostgresConnection, logger: Logger, resolver: IncidentResolver
    ) async throws -> [AuditDraft] {
        guard other != target else { throw HubError(.invalidState, "an incident cannot be merged into itself") }
        var merged = false
        for try await into in try await conn.query("SELECT merged_into FROM incident WHERE id = ANY(\([target, other])::uuid[]) FOR UPDATE", logger: logger)
            .decode(UUID?.self) where into != nil
        {
            merged = true
        }
        guard !merged else { throw HubError(.invalidState, "one of the incidents was already merged into another") }
        if record {
            let a = try await representative(of: target, conn: conn, logger: logger)
            let b = try await representative(of: other, conn: conn, logger: logger)
            try await conn.query("INSERT INTO identity_decision (action, report, other_report) VALUES ('merge', \(a), \(b))", logger: logger)
        }
        try await conn.query(
            "UPDATE incident_report SET incident_id = \(target), reason = 'merge', linked_at = now() WHERE incident_id = \(other)",
            logger: logger)
        try await conn.query("UPDATE incident SET merged_into = \(target), updated_at = now() WHERE id = \(other)", logger: logger)
        try await conn.query(
            "UPDATE conflict SET status = 'superseded', decided_at = now() WHERE incident_id = \(other) AND status = 'open'",
            logger: logger)
        var drafts = [
            AuditDraft(
                action: "incident.merge", entityKind: EntityKind.incident.rawValue, entityID: target.lowercasedText,
                content: ["merged": .string(other.lowercasedText)]),
            AuditDraft(
                action: "incident.merged", entityKind: EntityKind.incident.rawValue, entityID: other.lowercasedText,
                content: ["into": .string(target.lowercasedText)]),
        ]
        drafts += try await resolver.recompute([target])
        return drafts
    }

    static func createIncident(conn: PostgresConnection, logger: Logger) async throws -> (UUID, Int64) {
        let id = UUID()
        for try await number in try await conn.query(
            "INSERT INTO incident (id, version, data, provenance, content_hash) VALUES (\(id), 0, '{}', '{}', '\\x') RETURNING no",
            logger: logger
        ).decode(Int64.self) {
            return (id, number)
        }
        throw HubError(.invalidState, "incident insert returned no number")
    }

    /// A report named by `source:external_id` or its entity id, with its incident.
    static func report(
        _ reference: String, conn: PostgresConnection, logger: Logger
    ) async throws -> (id: UUID, key: String, incident: UUID) {
        let query: PostgresQuery
        if let uuid = UUID(uuidString: reference) {
            query = """
                SELECT x.entity_id, x.source_system || ':' || x.external_id, r.incident_id
                FROM xref x JOIN incident_report r ON r.report_id = x.entity_id WHERE x.entity_id = \(uuid)
                """
        } else {
            guard let colon = reference.firstIndex(of: ":") else {
                throw HubError(.notFound, "'\(reference)' is neither a report id (UUID) nor source:external_id")
            }
            query = """
                SELECT x.entity_id, x.source_system || ':' || x.external_id, r.incident_id
                FROM xref x JOIN incident_report r ON r.report_id = x.entity_id
                WHERE x.source_system = \(String(reference[..<colon])) AND x.external_id = \(String(reference[reference.index(after: colon)...]))
                """
        }
        for try await row in try await conn.query(query, logger: logger).decode((UUID, String, UUID).self) { return row }
        throw HubError(.notFound, "no report \(reference) in any incident")
    }

    /// An incident named by its number, its id, or one of its reports (`source:external_id`).
    static func incident(_ reference: String, conn: PostgresConnection, logger: Logger) async throws -> (id: UUID, no: Int64) {
        let query: PostgresQuery
        if let number = Int64(reference.hasPrefix("#") ? String(reference.dropFirst()) : reference) {
            query = "SELECT id, no FROM incident WHERE no = \(number)"
        } else if let uuid = UUID(uuidString: reference) {
            query = "SELECT id, no FROM incident WHERE id = \(uuid)"
        } else {
            let report = try await report(reference, conn: conn, logger: logger)
            query = "SELECT id, no FROM incident WHERE id = \(report.incident)"
        }
        for try await row in try await conn.query(query, logger: logger).decode((UUID, Int64).self) { return row }
        throw HubError(.notFound, "no incident \(reference) (give its number, its id, or one of its reports as source:external_id)")
    }

    static func members(of incident: UUID, conn: PostgresConnection, logger: Logger) async throws -> [UUID] {
        var result: [UUID] = []
        for try await id in try await conn.query(
            "SELECT report_id FROM incident_report WHERE incident_id = \(incident)", logger: logger
        ).decode(UUID.self) {
            result.append(id)
        }
        return result
    }

    static func incidentOf(report: UUID, conn: PostgresConnection, logger: Logger) async throws -> UUID? {
        for try await id in try await conn.query(
            "SELECT incident_id FROM incident_report WHERE report_id = \(report)", logger: logger
        ).decode(UUID.self) {
            return id
        }
        return nil
    }

    /// The first of an incident's reports by `source:external_id`: how decisions name incidents.
    static func representative(of incident: UUID, conn: PostgresConnection, logger: Logger) async throws -> String {
        for try await key in try await conn.query(
            """
            SELECT min(x.source_system || ':' || x.external_id) FROM incident_report r JOIN xref x ON x.entity_id = r.report_id
            WHERE r.incident_id = \(incident)
            """, logger: logger
        ).decode(String?.self) {
            if let key { return key }
        }
        throw HubError(.invalidState, "incident \(incident.lowercasedText) has no reports")
    }

    static func openCandidate(_ id: Int64, conn: PostgresConnection, logger: Logger) async throws -> (report: UUID, incident: UUID) {
        for try await row in try await conn.query(
            "SELECT report_id, incident_id FROM link_candidate WHERE id = \(id) AND status = 'open' FOR UPDATE", logger: logger
        ).decode((UUID, UUID).self) {
            return row
        }
        throw HubError(.notFound, "no open link candidate \(id)")
    }
}

extension UUID {
    /// The id as the hub writes it: lower case.
    var lowercasedText: String { uuidString.lowercased() }
}
