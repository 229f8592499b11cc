import Foundation
import LiandongModel
import PostgresNIO

/// What admins decide about incidents: split, merge, link candidates and conflicts. Each decision is
/// one transaction, audited, and recorded as a constraint on report pairs (`identity_constraint`) or a
/// conflict choice, which every later recompute and every rebuild honours.
extension IncidentStore {
    /// Takes a report out of its incident: it is put apart from every other report there, and the
    /// incident is re-clustered. Returns the number of the incident the report is in now.
    @discardableResult
    public func split(report reference: String, by actor: ActingUser) async throws -> Int64 {
        try await decide(by: actor) { conn, resolver in
            let report = try await Self.report(reference, conn: conn, logger: logger)
            let members = try await resolver.reportNodes(ids: [], near: [], incidents: [report.incident])
            let others = members.map(\.node.key).filter { $0 != report.key }
            guard !others.isEmpty else {
                throw HubError(.invalidState, "\(report.key) is the only report of its incident: nothing to split")
            }
            // A merge pins every report to one of them (`join`): when that one is taken out, the others it
            // held stay together, pinned to the first of them.
            let pinned = try await Self.pinnedTogether(with: report.key, among: others, conn: conn, logger: logger)
            try await Self.constrain(others.map { (report.key, $0) }, together: false, conn: conn, logger: logger)
            if let first = pinned.min(), pinned.count > 1 {
                try await Self.constrain(pinned.filter { $0 != first }.map { (first, $0) }, together: true, conn: conn, logger: logger)
            }
            var drafts: ChangeSet = [
                AuditDraft(
                    action: .incidentSplit, entityKind: EntityKind.incident.rawValue, entityID: report.incident.lowercasedText,
                    content: ["report": .string(report.key)])
            ]
            drafts += try await resolver.resolve(around: members)
            return (try await Self.report(reference, conn: conn, logger: logger).incidentNo, drafts)
        }
    }

    /// Merges two incidents (by number, id or one of their reports): their reports are put together and
    /// re-clustered. Returns the number of the incident they are in now.
    @discardableResult
    public func merge(_ target: String, _ other: String, by actor: ActingUser) async throws -> Int64 {
        try await decide(by: actor) { conn, resolver in
            let a = try await Self.incident(target, conn: conn, logger: logger)
            let b = try await Self.incident(other, conn: conn, logger: logger)
            guard a.id != b.id else { throw HubError(.invalidState, "\(target) and \(other) are the same incident") }
            let drafts = try await Self.join(a.id, b.id, conn: conn, logger: logger, resolver: resolver)
            return (try await Self.incident(target, conn: conn, logger: logger, followMerges: true).no, drafts)
        }
    }

    /// Accepts a link candidate: the report and the candidate incident are put together.
    public func acceptCandidate(_ id: Int64, by actor: ActingUser) async throws {
        try await decide(by: actor) { conn, resolver in
            let candidate = try await Self.openCandidate(id, conn: conn, logger: logger)
            var drafts = ChangeSet()
            if let current = try await Self.incidentOf(report: candidate.report, conn: conn, logger: logger), current != candidate.incident {
                drafts += try await Self.join(candidate.incident, current, conn: conn, logger: logger, resolver: resolver)
            }
            try await conn.guardedQuery("UPDATE link_candidate SET status = 'accepted', decided_at = now() WHERE id = \(id)", logger: logger)
            drafts.append(
                AuditDraft(
                    action: .candidateAccept, entityKind: EntityKind.incident.rawValue, entityID: candidate.incident.lowercasedText,
                    content: ["candidate": .number(Double(id))]))
            return ((), drafts)
        }
    }

    /// Rejects a link candidate: the report is put apart from the candidate incident's first report.
    public func rejectCandidate(_ id: Int64, by actor: ActingUser) async throws {
        try await decide(by: actor) { conn, _ in
            let candidate = try await Self.openCandidate(id, conn: conn, logger: logger)
            let report = try await Self.key(of: candidate.report, conn: conn, logger: logger)
            let other = try await Self.representative(of: candidate.incident, conn: conn, logger: logger)
            try await Self.constrain([(report, other)], together: false, conn: conn, logger: logger)
            try await conn.guardedQuery("UPDATE link_candidate SET status = 'rejected', decided_at = now() WHERE id = \(id)", logger: logger)
            return (
                (),
                [
                    AuditDraft(
                        action: .candidateReject, entityKind: EntityKind.incident.rawValue, entityID: candidate.incident.lowercasedText,
                        content: ["candidate": .number(Double(id))])
                ]
            )
        }
    }

    /// Decides a conflict with `value` (JSON, or plain text taken as a string). The value holds until
    /// the disagreement changes (a new value from either side opens a new conflict).
    public func resolveConflict(_ id: Int64, value text: String, by actor: ActingUser) async throws {
        let value = (try? FieldValue(jsonText: text)) ?? .string(text)
        try await decide(by: actor) { conn, resolver in
            var found: (UUID, String, String)?
            for try await row in try await conn.guardedQuery(
                "SELECT incident_id, key, field FROM conflict WHERE id = \(id) AND status = 'open' FOR UPDATE", logger: logger
            ).decode((UUID, String, String).self) {
                found = row
            }
            guard let (incident, key, field) = found else { throw HubError(.notFound, "no open conflict \(id)") }
            try await conn.guardedQuery(
                """
                INSERT INTO conflict_choice (key, value) VALUES (\(key), \(value.canonicalJSON)::jsonb)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, decided_at = now()
                """, logger: logger)
            try await conn.guardedQuery(
                """
                UPDATE conflict SET status = 'resolved', resolution = \(value.canonicalJSON)::jsonb, decided_at = now() WHERE id = \(id)
                """, logger: logger)
            var drafts: ChangeSet = [
                AuditDraft(
                    action: .conflictResolve, entityKind: EntityKind.incident.rawValue, entityID: incident.lowercasedText,
                    content: ["conflict": .number(Double(id)), "field": .string(field), "value": value])
            ]
            drafts += try await resolver.recompute([incident])
            return ((), drafts)
        }
    }

    // MARK: - Helpers

    /// The actions an admin decides (the others in a decision's change set follow from it).
    static let decisions: Set<AuditAction> = [.incidentSplit, .incidentMerge, .candidateAccept, .candidateReject, .conflictResolve]

    /// Runs an admin decision in one transaction with the audit chain locked; its entries name `actor`.
    func decide<T: Sendable>(
        by actor: ActingUser, _ body: (PostgresConnection, IncidentResolver) async throws -> (T, ChangeSet)
    ) async throws -> T {
        try await hub.withIngestTransaction { tx, head in
            let resolver = IncidentResolver(pending: tx.pending, policy: tx.policies.incident, reports: tx.kinds.reports)
            var (result, drafts) = try await body(tx.conn, resolver)
            drafts.sign(by: actor, decisions: Self.decisions)
            try await tx.recordChanges(drafts, after: head, decided: resolver.decided)
            return result
        }
    }

    /// Puts two incidents together (each report with the first one, as constraints; earlier decisions
    /// keeping their reports apart are withdrawn) and re-clusters them.
    static func join(
        _ a: UUID, _ b: UUID, conn: PostgresConnection, logger: Logger, resolver: IncidentResolver
    ) async throws -> ChangeSet {
        let members = try await resolver.reportNodes(ids: [], near: [], incidents: [a, b])
        let left = members.filter { $0.incident == a }.map(\.node.key)
        let right = members.filter { $0.incident == b }.map(\.node.key)
        guard let first = left.min(), !right.isEmpty else { throw HubError(.invalidState, "an incident has no reports") }
        try await conn.guardedQuery(
            """
            DELETE FROM identity_constraint WHERE NOT together
              AND ((a = ANY(\(left)::text[]) AND b = ANY(\(right)::text[])) OR (a = ANY(\(right)::text[]) AND b = ANY(\(left)::text[])))
            """, logger: logger)
        // Every report with the first one: a score joins only reports within each other's hard limits,
        // but a person's merge holds whatever the distance between its reports.
        try await constrain((left + right).filter { $0 != first }.map { (first, $0) }, together: true, conn: conn, logger: logger)
        return try await resolver.resolve(around: members)
    }

    /// The reports of `among` a person put together with `key`.
    static func pinnedTogether(with key: String, among keys: [String], conn: PostgresConnection, logger: Logger) async throws -> [String] {
        var pinned: [String] = []
        for try await other in try await conn.guardedQuery(
            """
            SELECT CASE WHEN a = \(key) THEN b ELSE a END FROM identity_constraint
            WHERE together AND (a = \(key) OR b = \(key))
            """, logger: logger
        ).decode(String.self) where keys.contains(other) {
            pinned.append(other)
        }
        return pinned
    }

    /// Records pairs of reports as together or apart (a later decision on a pair replaces the earlier).
    static func constrain(_ pairs: [(String, String)], together: Bool, conn: PostgresConnection, logger: Logger) async throws {
        let sorted = pairs.map { IdentityGraph.Pair($0.0, $0.1) }
        try await conn.guardedQuery(
            """
            INSERT INTO identity_constraint (a, b, together)
            SELECT a, b, \(together) FROM UNNEST(\(sorted.map(\.a))::text[], \(sorted.map(\.b))::text[]) AS t(a, b)
            ON CONFLICT (a, b) DO UPDATE SET together = EXCLUDED.together, decided_at = now()
            """, logger: logger)
    }

    static func key(of report: UUID, conn: PostgresConnection, logger: Logger) async throws -> String {
        for try await key in try await conn.guardedQuery(
            "SELECT source_system || ':' || external_id FROM xref WHERE entity_id = \(report)", logger: logger
        ).decode(String.self) {
            return key
        }
        throw HubError(.notFound, "no report \(report.lowercasedText)")
    }

    /// A report named by `source:external_id` or its entity id, with its incident.
    static func report(
        _ reference: String, conn: PostgresConnection, logger: Logger
    ) async throws -> (id: UUID, key: String, incident: UUID, incidentNo: Int64) {
        let query: PostgresQuery
        if let uuid = UUID(uuidString: reference) {
            query = """
                SELECT x.entity_id, x.source_system || ':' || x.external_id, r.incident_id, i.no
                FROM xref x JOIN incident_report r ON r.report_id = x.entity_id JOIN incident i ON i.id = r.incident_id
                WHERE x.entity_id = \(uuid)
                """
        } else {
            guard let colon = reference.firstIndex(of: ":") else {
                throw HubError(.notFound, "'\(reference)' is neither a report id (UUID) nor source:external_id")
            }
            query = """
                SELECT x.entity_id, x.source_system || ':' || x.external_id, r.incident_id, i.no
                FROM xref x JOIN incident_report r ON r.report_id = x.entity_id JOIN incident i ON i.id = r.incident_id
                WHERE x.source_system = \(String(reference[..<colon])) AND x.external_id = \(String(reference[reference.index(after: colon)...]))
                """
        }
        for try await row in try await conn.guardedQuery(query, logger: logger).decode((UUID, String, UUID, Int64).self) { return row }
        throw HubError(.notFound, "no report \(reference) in any incident")
    }

    /// An incident named by its number, its id, or one of its reports (`source:external_id`); with
    /// `followMerges`, the incident a merged one went into.
    static func incident(
        _ reference: String, conn: PostgresConnection, logger: Logger, followMerges: Bool = false
    ) async throws -> (id: UUID, no: Int64) {
        let query: PostgresQuery
        if let number = Int64(reference.hasPrefix("#") ? String(reference.dropFirst()) : reference) {
            query = "SELECT id, no, merged_into FROM incident WHERE no = \(number)"
        } else if let uuid = UUID(uuidString: reference) {
            query = "SELECT id, no, merged_into FROM incident WHERE id = \(uuid)"
        } else {
            let report = try await report(reference, conn: conn, logger: logger)
            query = "SELECT id, no, merged_into FROM incident WHERE id = \(report.incident)"
        }
        for try await (id, no, into) in try await conn.guardedQuery(query, logger: logger).decode((UUID, Int64, UUID?).self) {
            if followMerges, let into { return try await incident(into.uuidString, conn: conn, logger: logger, followMerges: true) }
            return (id, no)
        }
        throw HubError(.notFound, "no incident \(reference) (give its number, its id, or one of its reports as source:external_id)")
    }

    static func incidentOf(report: UUID, conn: PostgresConnection, logger: Logger) async throws -> UUID? {
        for try await id in try await conn.guardedQuery(
            "SELECT incident_id FROM incident_report WHERE report_id = \(report)", logger: logger
        ).decode(UUID.self) {
            return id
        }
        return nil
    }

    /// The first of an incident's reports by `source:external_id`: how decisions name incidents.
    static func representative(of incident: UUID, conn: PostgresConnection, logger: Logger) async throws -> String {
        for try await key in try await conn.guardedQuery(
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
        for try await row in try await conn.guardedQuery(
            "SELECT report_id, incident_id FROM link_candidate WHERE id = \(id) AND status = 'open' FOR UPDATE", logger: logger
        ).decode((UUID, UUID).self) {
            return row
        }
        throw HubError(.notFound, "no open link candidate \(id)")
    }
}
