import Foundation
import LiandongModel
import PostgresNIO

/// Incidents as admins see and decide them: the list, one incident's file (一事一档), candidates,
/// conflicts, split, merge and the answers to candidates and conflicts (`hub.incidents`).
public struct IncidentStore: HubStore {
    let hub: Hub
}

/// What admins read about incidents: the list, one incident's file (一事一档), candidates, conflicts.
extension IncidentStore {
    /// One line of `incidents list`.
    public struct IncidentSummary: Sendable, Codable {
        public var no: Int64
        public var id: UUID
        public var category: String?
        public var incidentType: String?
        public var status: String?
        public var reportedAt: Date?
        public var address: String?
        public var reports: [String]
        public var openConflicts: Int
    }

    /// Incidents not merged away, newest first; with `openOnly`, those whose status is not `closed`.
    public func list(openOnly: Bool = false) async throws -> [IncidentSummary] {
        try await summaries(
            try await self.rows(
                """
                \(unescaped: Self.summarySelect)
                WHERE i.merged_into IS NULL AND (NOT \(openOnly) OR i.status IS DISTINCT FROM 'closed')
                ORDER BY i.reported_at DESC NULLS LAST, i.no DESC
                """, logger: logger))
    }

    /// `SELECT … FROM incident i` of what `summaries` reads: the incident's columns, its reports as
    /// `source:external_id` and its open conflicts.
    static let summarySelect = """
        SELECT i.no, i.id, i.category, i.incident_type, i.status, i.reported_at, i.data ->> 'address',
               (SELECT string_agg(x.source_system || ':' || x.external_id, ' ' ORDER BY x.source_system, x.external_id)
                FROM incident_report r JOIN xref x ON x.entity_id = r.report_id WHERE r.incident_id = i.id),
               (SELECT count(*)::int FROM conflict c WHERE c.incident_id = i.id AND c.status = 'open')
        FROM incident i
        """

    /// The summaries of rows selected by `summarySelect`.
    func summaries(_ rows: ReadRows) async throws -> [IncidentSummary] {
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

    /// An incident's file (一事一档): every report and how it was linked, each field with its source and
    /// the values that lost beside it, candidates, conflicts, transfers, instructions and the audit trail.
    public struct IncidentFile: Sendable, Codable {
        public var no: Int64
        public var id: UUID
        public var version: Int
        public var mergedInto: UUID?
        public var fields: [Field]
        public var reports: [Report]
        public var candidates: [Candidate]
        public var conflicts: [Conflict]
        /// Transfers of its reports between platforms (12345 ↔ 110).
        public var transfers: [TransferView]
        /// The bureau's instructions about it, one line per addressee.
        public var instructions: [InstructionReceiptView]
        public var audit: [AuditLine]

        /// A decided field.
        public struct Field: Sendable, Codable {
            public var name: String
            public var value: FieldValue
            public var source: String?
            public var report: String?
            public var sourceTime: Date?
            public var rule: String?
            public var alternates: [Alternate]
        }

        /// A value that lost, and why.
        public struct Alternate: Sendable, Codable {
            public var value: FieldValue
            public var source: String
            public var report: String
            public var sourceTime: Date
            public var reason: String
        }

        /// A report and its link.
        public struct Report: Sendable, Codable {
            public var report: String
            public var kind: String
            public var id: UUID
            public var reason: String
            public var score: FieldValue?
            public var linkedAt: Date
            public var sourceTime: Date?
        }

        /// One audit entry about the incident or one of its reports.
        public struct AuditLine: Sendable, Codable {
            public var seq: Int64
            public var at: Date
            public var action: String
            public var subject: String
            public var body: String
        }
    }

    /// A link candidate.
    public struct Candidate: Sendable, Codable {
        public var id: Int64
        public var report: String
        public var incidentNo: Int64
        public var score: FieldValue
        public var status: String
        public var createdAt: Date
    }

    /// A conflict between equal authorities.
    public struct Conflict: Sendable, Codable {
        public var id: Int64
        public var incidentNo: Int64
        public var field: String
        public var candidates: FieldValue
        public var status: String
        public var resolution: FieldValue?
        public var createdAt: Date
    }

    /// The file of the incident `reference` names: its number, id, or one of its reports.
    public func file(_ reference: String) async throws -> IncidentFile {
        let (id, no) = try await hub.client.withConnection { conn in try await Self.incident(reference, conn: conn, logger: logger) }
        var file: IncidentFile?
        for try await (version, mergedInto, data, provenance) in try await self.rows(
            "SELECT version, merged_into, data::text, provenance::text FROM incident WHERE id = \(id)", logger: logger
        ).decode((Int, UUID?, String, String).self) {
            let fields = try FieldValue.storedObject(data)
            let sources = try FieldValue.storedObject(provenance)
            file = IncidentFile(
                no: no, id: id, version: version, mergedInto: mergedInto,
                fields: fields.keys.sorted().map { name in
                    let p = sources[name]?.objectValue ?? [:]
                    return .init(
                        name: name, value: fields[name]!, source: p["source"]?.stringValue, report: p["report"]?.stringValue,
                        sourceTime: p["sourceTime"]?.stringValue.flatMap(Date.init(canonicalText:)), rule: p["rule"]?.stringValue,
                        alternates: [])
                },
                reports: [], candidates: [], conflicts: [], transfers: [], instructions: [], audit: [])
        }
        guard var file else { throw HubError(.notFound, "no incident \(reference)") }
        for try await (field, value, source, report, time, reason) in try await self.rows(
            """
            SELECT field, value::text, source_system, report, source_time, reason FROM incident_alternate
            WHERE incident_id = \(id) ORDER BY field, source_time, report
            """, logger: logger
        ).decode((String, String, String, String, Date, String).self) {
            guard let index = file.fields.firstIndex(where: { $0.name == field }) else { continue }
            file.fields[index].alternates.append(
                .init(value: try FieldValue(stored: value), source: source, report: report, sourceTime: time, reason: reason))
        }
        var reportIDs: [UUID] = []
        for try await (key, kind, reportID, reason, score, linkedAt) in try await self.rows(
            """
            SELECT x.source_system || ':' || x.external_id, r.report_kind, r.report_id, r.reason, r.score::text, r.linked_at
            FROM incident_report r JOIN xref x ON x.entity_id = r.report_id
            WHERE r.incident_id = \(id) ORDER BY r.linked_at, x.source_system, x.external_id
            """, logger: logger
        ).decode((String, String, UUID, String, String?, Date).self) {
            reportIDs.append(reportID)
            file.reports.append(
                .init(
                    report: key, kind: kind, id: reportID, reason: reason, score: try score.map { try FieldValue(stored: $0) },
                    linkedAt: linkedAt, sourceTime: nil))
        }
        file.candidates = try await candidates(Filter(incident: id, reports: reportIDs))
        file.conflicts = try await conflicts(Filter(incident: id))
        file.transfers = try await hub.outbox.transfers(of: reportIDs)
        file.instructions = try await hub.outbox.instructionReceipts(concerning: reportIDs)
        let subjects = [id.lowercasedText] + reportIDs.map(\.lowercasedText)
        for try await (seq, at, action, subject, body) in try await self.rows(
            "SELECT seq, at, action, entity_id, body FROM audit_entry WHERE entity_id = ANY(\(subjects)::text[]) ORDER BY seq",
            logger: logger
        ).decode((Int64, Date, String, String, String).self) {
            file.audit.append(.init(seq: seq, at: at, action: action, subject: subject, body: body))
        }
        return file
    }

    /// Link candidates; with `openOnly`, those waiting for a person.
    public func candidates(openOnly: Bool) async throws -> [Candidate] {
        try await candidates(Filter(openOnly: openOnly))
    }

    /// Conflicts; with `openOnly`, those waiting for a person.
    public func conflicts(openOnly: Bool) async throws -> [Conflict] {
        try await conflicts(Filter(openOnly: openOnly))
    }

    /// One conflict.
    public func conflict(_ id: Int64) async throws -> Conflict {
        guard let conflict = try await conflicts(Filter(id: id)).first else { throw HubError(.notFound, "no conflict \(id)") }
        return conflict
    }

    /// Which candidates or conflicts to list: open ones, one by id, or those of an incident (and, for
    /// candidates, of its reports).
    struct Filter {
        var openOnly = false
        var id: Int64?
        var incident: UUID?
        var reports: [UUID] = []
    }

    private func candidates(_ filter: Filter) async throws -> [Candidate] {
        var result: [Candidate] = []
        let query: PostgresQuery = """
            SELECT c.id, x.source_system || ':' || x.external_id, i.no, c.score::text, c.status, c.created_at
            FROM link_candidate c JOIN xref x ON x.entity_id = c.report_id JOIN incident i ON i.id = c.incident_id
            WHERE (NOT \(filter.openOnly) OR c.status = 'open') AND (\(filter.id == nil) OR c.id = \(filter.id ?? 0))
              AND (\(filter.incident == nil) OR c.incident_id = \(filter.incident ?? UUID()) OR c.report_id = ANY(\(filter.reports)::uuid[]))
            ORDER BY c.id
            """
        for try await (id, report, no, score, status, created) in try await self.rows(query, logger: logger)
            .decode((Int64, String, Int64, String, String, Date).self)
        {
            result.append(
                Candidate(
                    id: id, report: report, incidentNo: no, score: try FieldValue(stored: score), status: status,
                    createdAt: created))
        }
        return result
    }

    private func conflicts(_ filter: Filter) async throws -> [Conflict] {
        var result: [Conflict] = []
        let query: PostgresQuery = """
            SELECT c.id, i.no, c.field, c.candidates::text, c.status, c.resolution::text, c.created_at
            FROM conflict c JOIN incident i ON i.id = c.incident_id
            WHERE (NOT \(filter.openOnly) OR c.status = 'open') AND (\(filter.id == nil) OR c.id = \(filter.id ?? 0))
              AND (\(filter.incident == nil) OR c.incident_id = \(filter.incident ?? UUID()))
            ORDER BY c.id
            """
        for try await (id, no, field, candidates, status, resolution, created) in try await self.rows(query, logger: logger)
            .decode((Int64, Int64, String, String, String, String?, Date).self)
        {
            result.append(
                Conflict(
                    id: id, incidentNo: no, field: field, candidates: try FieldValue(stored: candidates), status: status,
                    resolution: try resolution.map { try FieldValue(stored: $0) }, createdAt: created))
        }
        return result
    }
}
