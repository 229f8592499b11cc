import Crypto
import Foundation
import LiandongModel
import Logging
import PostgresNIO

/// Identity resolution and the authority merge, inside a hub transaction. Incidents are the groups
/// `IdentityGraph` makes of the reports (explicit cross-references and admins' decisions, then
/// decisive match scores by complete linkage), kept up to date around every report that changes: so
/// the incidents do not depend on the order reports arrive in.
struct IncidentResolver {
    /// The transaction's connection; writes whose answers are not needed go through it unawaited.
    let pending: PendingStatements
    let policy: IncidentPolicy
    /// The kinds whose records are reports, each a table identity reads.
    let reports: [EntityKind]
    /// Reports this transaction has just stored, as stored: read from here rather than from their
    /// tables, which would only give the same fields back as JSON to parse again.
    var stored: [UUID: CanonicalRecord] = [:]
    /// The incidents this resolver wrote, handed to the outbox so that it does not read them back.
    let decided = DecidedIncidents()

    var conn: PostgresConnection { pending.conn }
    var logger: Logger { pending.logger }

    /// A report as identity resolution loads it.
    struct ReportNode: Sendable {
        var id: UUID
        var kind: EntityKind
        var node: IdentityGraph.Node
        var incident: UUID?
        var incidentNo: Int64?
    }

    /// Re-clusters the neighbourhood of every touched report and recomputes the incidents involved.
    /// Returns the audit drafts, in a deterministic order.
    func resolve(_ touched: [UUID: CanonicalRecord]) async throws -> ChangeSet {
        guard !touched.isEmpty else { return [] }
        return try await resolve(
            ids: Array(touched.keys), keys: Set(touched.values.map(\.reportKey)),
            times: touched.values.compactMap { features(of: $0.incidentReport).time })
    }

    /// Re-clusters the neighbourhood of these reports, as after a person's decision about them: the same
    /// way as when they arrived, so that a rebuild gives the same incidents.
    func resolve(around reports: [ReportNode]) async throws -> ChangeSet {
        try await resolve(ids: reports.map(\.id), keys: Set(reports.map(\.node.key)), times: reports.compactMap(\.node.features.time))
    }

    private func resolve(ids: [UUID], keys touched: Set<String>, times: [Date]) async throws -> ChangeSet {
        // The reports a touched one names or is named by come whatever their time: an explicit link
        // joins across any gap, and one naming a report not seen yet is applied when that report arrives.
        let partners = try await linkPartners(of: ids)
        var nodes = try await reportNodes(ids: ids + partners, near: times, incidents: [])
        var graph = IdentityGraph(policy: policy.matching)
        try await addDecisions(among: nodes.map(\.node.key), to: &graph)
        var neighbourhood = IdentityGraph.Neighbourhood(policy: graph.policy)
        neighbourhood.add(nodes.map(\.node))
        // A touched report changes what its neighbours' scores stand out from (a new rival can undo a
        // join between two others), so every report it has a score with is rewritten too. Then grow the
        // neighbourhood until it is closed: every incident that holds a report in a group with one of
        // them comes whole, so groups are never cut by what was not loaded.
        var scope = touched
        for pair in neighbourhood.scores.keys where touched.contains(pair.a) || touched.contains(pair.b) {
            scope.insert(pair.a)
            scope.insert(pair.b)
        }
        var loaded: Set<UUID> = []
        while true {
            let clustering = graph.clusters(neighbourhood)
            let groups = clustering.groups.filter { $0.contains { scope.contains($0) } }
            let keys = Set(groups.flatMap { $0 })
            let involved = Set(nodes.filter { keys.contains($0.node.key) }.compactMap(\.incident)).subtracting(loaded)
            // Closed: the last clustering is the one to write.
            guard !involved.isEmpty else { return try await write(clustering, of: nodes, only: scope) }
            loaded.formUnion(involved)
            let known = Set(nodes.map(\.id))
            let members = try await reportNodes(ids: [], near: [], incidents: Array(involved))
            let added = members.filter { !known.contains($0.id) }
            nodes += added
            try await addDecisions(among: added.map(\.node.key), to: &graph)
            neighbourhood.add(added.map(\.node))
            scope.formUnion(members.map(\.node.key))
        }
    }

    /// Writes the clustering of `nodes` for the groups that hold a report of `only`: incident memberships, new and absorbed incidents, link candidates; then recomputes
    /// every incident involved. New incidents are written by `recompute`, once, with their fields: what
    /// names them before that is checked at commit (migration 0011).
    private func write(_ result: IdentityGraph.Clustering, of nodes: [ReportNode], only: Set<String>) async throws -> ChangeSet {
        let byKey = Dictionary(uniqueKeysWithValues: nodes.map { ($0.node.key, $0) })
        let groups = result.groups.filter { group in group.contains { only.contains($0) } }
        var taken: Set<UUID> = []
        var created: [UUID] = []
        var moves: [(node: ReportNode, incident: UUID, edge: IdentityGraph.Edge?)] = []
        var drafts = ChangeSet()
        // Each group keeps the incident most of its members are in (ties: the oldest), else a new one.
        for group in groups {
            let members = group.compactMap { byKey[$0] }
            let counts = Dictionary(grouping: members.compactMap { m in m.incident.map { ($0, m.incidentNo ?? .max) } }, by: { $0.0 })
            let kept = counts.filter { !taken.contains($0.key) }
                .max { l, r in l.value.count != r.value.count ? l.value.count < r.value.count : l.value[0].1 > r.value[0].1 }?.key
            let incident = kept ?? UUID.timeOrdered()
            if kept == nil { created.append(incident) }
            taken.insert(incident)
            for member in members where member.incident != incident {
                moves.append((member, incident, result.joinedBy[member.node.key]))
            }
        }
        if !moves.isEmpty {
            let reasons = moves.map { $0.edge?.reason ?? ($0.node.incident == nil ? "new" : "split") }
            pending.send(
                """
                INSERT INTO incident_report (report_id, report_kind, incident_id, reason, score)
                SELECT t.r, t.k, t.i, t.reason, NULLIF(t.s, '')::jsonb
                FROM UNNEST(\(moves.map(\.node.id))::uuid[], \(moves.map(\.node.kind.rawValue))::text[], \(moves.map(\.incident))::uuid[],
                            \(reasons)::text[], \(moves.map { $0.edge?.score.map(Self.json) ?? "" })::text[]) AS t(r, k, i, reason, s)
                ON CONFLICT (report_id) DO UPDATE SET incident_id = EXCLUDED.incident_id, reason = EXCLUDED.reason,
                    score = EXCLUDED.score, linked_at = now()
                """)
            for (move, reason) in zip(moves, reasons) {
                drafts.append(
                    AuditDraft(
                        action: .incidentLink, entityKind: EntityKind.incident.rawValue, entityID: move.incident.lowercasedText,
                        content: [
                            "report": .string(move.node.node.key), "report_kind": .string(move.node.kind.rawValue),
                            "reason": .string(reason), "score": move.edge?.score.map { .number($0.total) } ?? .null,
                            "from": move.node.incident.map { .string($0.lowercasedText) } ?? .null,
                        ]))
            }
        }
        // Incidents left without reports were absorbed: they stay, naming the incident that took them.
        let written = Set(groups.flatMap { $0 })
        let before = Set(nodes.filter { written.contains($0.node.key) }.compactMap(\.incident))
        var absorbed: [(UUID, UUID)] = []
        for old in before.subtracting(taken).sorted(by: { $0.uuidString < $1.uuidString }) {
            guard let into = moves.first(where: { $0.node.incident == old })?.incident else { continue }
            absorbed.append((old, into))
            decided.forget(old)
        }
        if !absorbed.isEmpty {
            pending.send(
                """
                UPDATE incident i SET merged_into = t.target, updated_at = now()
                FROM UNNEST(\(absorbed.map(\.0))::uuid[], \(absorbed.map(\.1))::uuid[]) AS t(id, target) WHERE i.id = t.id
                """)
            pending.send(
                "UPDATE conflict SET status = 'superseded', decided_at = now() WHERE incident_id = ANY(\(absorbed.map(\.0))::uuid[]) AND status = 'open'")
            for (old, into) in absorbed {
                drafts.append(
                    AuditDraft(
                        action: .incidentMerge, entityKind: EntityKind.incident.rawValue, entityID: into.lowercasedText,
                        content: ["merged": .string(old.lowercasedText)]))
                drafts.append(
                    AuditDraft(
                        action: .incidentMerged, entityKind: EntityKind.incident.rawValue, entityID: old.lowercasedText,
                        content: ["into": .string(into.lowercasedText)]))
            }
        }
        var incidentOf = byKey.compactMapValues(\.incident)
        for move in moves { incidentOf[move.node.node.key] = move.incident }
        drafts += try await writeCandidates(
            result.candidates, nodes: byKey, incidentOf: incidentOf, rewritten: written, rewrittenIncidents: taken.union(before),
            absorbed: Set(absorbed.map(\.0)))
        drafts += try await recompute(taken.union(before), created: created)
        return drafts
    }

    /// Keeps one open link candidate per report, for its best incident (`IdentityGraph.Clustering`).
    /// A report of a rewritten group takes the candidate computed now; another loaded report takes it
    /// only if it beats the one it holds, since its own neighbourhood was not loaded whole (a candidate
    /// it holds can so outlive a rival that arrived since; the next change near it replaces it). A
    /// candidate is superseded when its report has joined the candidate incident, when that incident
    /// was absorbed, when a better one replaces it, or when its report, rewritten with that incident,
    /// no longer has it.
    func writeCandidates(
        _ candidates: [String: IdentityGraph.Candidate], nodes: [String: ReportNode], incidentOf: [String: UUID],
        rewritten: Set<String>, rewrittenIncidents: Set<UUID>, absorbed: Set<UUID>
    ) async throws -> ChangeSet {
        var held: [UUID: (id: Int64, incident: UUID, total: Double)] = [:]
        for try await (id, report, incident, total) in try await conn.guardedQuery(
            """
            SELECT id, report_id, incident_id, (score ->> 'total')::float8 FROM link_candidate
            WHERE status = 'open' AND report_id = ANY(\(nodes.values.map(\.id))::uuid[])
            """, logger: logger
        ).decode((Int64, UUID, UUID, Double).self) {
            held[report] = (id, incident, total)
        }
        var rows: [(report: ReportNode, incident: UUID, score: MatchScore)] = []
        var superseded: [(id: Int64, incident: UUID, report: String)] = []
        for (key, node) in nodes.sorted(by: { $0.key < $1.key }) {
            let wanted = candidates[key].flatMap { c in incidentOf[c.other].map { (incident: $0, score: c.score) } }
                .flatMap { $0.incident != incidentOf[key] ? $0 : nil }
            let current = held[node.id].flatMap { c in c.incident != incidentOf[key] && !absorbed.contains(c.incident) ? c : nil }
            if let wanted {
                if let current, current.incident == wanted.incident || (!rewritten.contains(key) && current.total >= wanted.score.total) {
                    continue
                }
                rows.append((node, wanted.incident, wanted.score))
            } else if let current, !(rewritten.contains(key) && rewrittenIncidents.contains(current.incident)) {
                continue
            }
            if let old = held[node.id] { superseded.append((old.id, old.incident, key)) }
        }
        var drafts = ChangeSet()
        if !superseded.isEmpty {
            pending.send(
                "UPDATE link_candidate SET status = 'superseded', decided_at = now() WHERE id = ANY(\(superseded.map(\.id))::bigint[])")
            for old in superseded {
                drafts.append(
                    AuditDraft(
                        action: .candidateSupersede, entityKind: EntityKind.incident.rawValue, entityID: old.incident.lowercasedText,
                        content: ["candidate": .number(Double(old.id)), "report": .string(old.report)]))
            }
        }
        guard !rows.isEmpty else { return drafts }
        let inserted = try await conn.guardedQuery(
            """
            INSERT INTO link_candidate (report_id, report_kind, incident_id, score)
            SELECT * FROM UNNEST(\(rows.map(\.report.id))::uuid[], \(rows.map(\.report.kind.rawValue))::text[],
                                 \(rows.map(\.incident))::uuid[], \(rows.map { Self.json($0.score) })::jsonb[])
            ON CONFLICT (report_id, incident_id) DO UPDATE SET status = 'open', score = EXCLUDED.score, decided_at = NULL
                WHERE link_candidate.status = 'superseded'
            RETURNING id, report_id, incident_id
            """, logger: logger)
        var ids: [String: Int64] = [:]
        for try await (id, report, incident) in inserted.decode((Int64, UUID, UUID).self) { ids["\(report)\(incident)"] = id }
        return drafts + rows.compactMap { row in
            ids["\(row.report.id)\(row.incident)"].map { id in
                AuditDraft(
                    action: .incidentCandidate, entityKind: EntityKind.incident.rawValue, entityID: row.incident.lowercasedText,
                    content: ["candidate": .number(Double(id)), "report": .string(row.report.node.key), "score": .number(row.score.total)])
            }
        }
    }

    /// Adds the admins' together/apart decisions about any of `keys` to `graph`.
    func addDecisions(among keys: [String], to graph: inout IdentityGraph) async throws {
        guard !keys.isEmpty else { return }
        for try await (a, b, together) in try await conn.guardedQuery(
            "SELECT a, b, together FROM identity_constraint WHERE a = ANY(\(keys)::text[]) OR b = ANY(\(keys)::text[])",
            logger: logger
        ).decode((String, String, Bool).self) {
            if together { graph.together.insert(.init(a, b)) } else { graph.apart.insert(.init(a, b)) }
        }
    }

    /// Reports by id, reports whose time is within three times the matching reach of one of `near`, and the
    /// members of `incidents`, with their incidents and the reports they name.
    func reportNodes(ids: [UUID], near: [Date], incidents: [UUID]) async throws -> [ReportNode] {
        // Three times the reach: a touched report's neighbours are within the reach of it, their partners
        // within the reach of them, and those partners' rivals (`IdentityGraph.Rivals`) within the reach
        // of those.
        let limit = policy.matching.longestGap.isFinite ? 3 * policy.matching.longestGap : 0
        let windows = Self.windows(around: near, limit: limit)
        var result: [ReportNode] = []
        var seen = Set<UUID>()
        for kind in reports {
            // Field names are written into the statement (they come from authority.yaml, never from
            // input, and are checked to be names), so that the expression index on the time field
            // (migration 0004) serves the windows. Of each report only what matching reads is sent,
            // not its long texts and unit lists. The windows are disjoint, so each of their rows comes
            // once, read where the index finds it; the reports named by id or incident come beside
            // them (UNION ALL) and a report both ways is dropped here. Gathering ids first and joining
            // the table again made PostgreSQL hash whole rows of the table (spilling to disk). Each
            // report's incident is looked up by its key (LATERAL): a plain join let the planner, which
            // cannot tell how many rows the windows hold, hash all of incident_report, a scan that grew
            // with the hub (0.7 s a page at 600,000 reports, 50 ms this way).
            let field = policy.authority.fields["reported_at"]?.reportField("reported_at", kind: kind) ?? "reported_at"
            let featureFields = Set(policy.authority.reportFields(deciding: MatchFeatures.incidentFields, kind: kind))
                .union(["member_system"]).sorted()
            for name in featureFields where !name.allSatisfy({ $0.isLetter || $0 == "_" }) {
                throw HubError(.invalidState, "authority.yaml: a 'from' of \(kind) must be a field name, got '\(name)'")
            }
            let projection = featureFields.map { "'\($0)', k.data -> '\($0)'" }.joined(separator: ", ")
            let query: PostgresQuery = """
                SELECT k.id, k.source_system, k.external_id, k.source_time,
                       CASE WHEN k.id = ANY(\(Array(stored.keys))::uuid[]) THEN NULL
                            ELSE jsonb_strip_nulls(jsonb_build_object(\(unescaped: projection)))::text
                       END, m.incident_id, m.no
                FROM (SELECT e.* FROM UNNEST(\(windows.map(\.from))::timestamptz[], \(windows.map(\.to))::timestamptz[]) AS w(f, t)
                            JOIN LATERAL (SELECT * FROM \(unescaped: kind.rawValue)
                                          WHERE hub_time(data ->> '\(unescaped: field)') BETWEEN w.f AND w.t) e ON true
                      UNION ALL
                      SELECT * FROM \(unescaped: kind.rawValue)
                      WHERE id = ANY(ARRAY(SELECT unnest(\(ids)::uuid[])
                                           UNION SELECT report_id FROM incident_report WHERE incident_id = ANY(\(incidents)::uuid[])))) k
                LEFT JOIN LATERAL (SELECT r.incident_id, i.no FROM incident_report r JOIN incident i ON i.id = r.incident_id
                                   WHERE r.report_id = k.id) m ON true
                """
            var rows: [Row] = []
            for try await (id, source, externalID, time, data, incident, no) in try await conn.guardedQuery(query, logger: logger)
                .decode((UUID, String, String, Date, String?, UUID?, Int64?).self)
            where seen.insert(id).inserted {
                rows.append(Row(id: id, source: source, externalID: externalID, time: time, data: data, incident: incident, no: no))
            }
            // Parsing and features are each row's own: made on every core.
            let (stored, authority) = (stored, policy.authority)
            for node in rows.concurrentMap({ row in
                Result {
                    let report = try stored[row.id]?.incidentReport ?? IncidentReport(
                        kind: kind, source: SourceSystemID(row.source), externalID: row.externalID, sourceTime: row.time,
                        fields: try row.data.map(FieldValue.storedObject) ?? [:])
                    return ReportNode(
                        id: row.id, kind: kind, node: .init(key: report.key, features: Self.features(of: report, authority: authority)),
                        incident: row.incident, incidentNo: row.no)
                }
            }) {
                result.append(try node.get())
            }
        }
        // The reports each names (explicit cross-references), and the reports naming them.
        let rows = try await conn.guardedQuery(
            """
            SELECT l.from_entity, l.target_source || ':' || l.target_external_id, l.link_type FROM entity_link l
            WHERE l.link_type <> 'supersedes' AND l.from_entity = ANY(\(result.map(\.id))::uuid[])
            """, logger: logger)
        let index = Dictionary(uniqueKeysWithValues: result.enumerated().map { ($1.id, $0) })
        for try await (from, target, type) in rows.decode((UUID, String, String).self) {
            if let i = index[from] { result[i].node.names[target] = type }
        }
        return result
    }

    /// The reports that `ids` name by explicit cross-reference and the reports that name them, among
    /// those the hub holds.
    func linkPartners(of ids: [UUID]) async throws -> [UUID] {
        var partners: [UUID] = []
        for try await id in try await conn.guardedQuery(
            """
            SELECT x.entity_id FROM entity_link l JOIN xref x ON x.source_system = l.target_source AND x.external_id = l.target_external_id
            WHERE l.link_type <> 'supersedes' AND l.from_entity = ANY(\(ids)::uuid[])
            UNION
            SELECT l.from_entity FROM xref x JOIN entity_link l ON l.target_source = x.source_system AND l.target_external_id = x.external_id
            WHERE l.link_type <> 'supersedes' AND x.entity_id = ANY(\(ids)::uuid[])
            """, logger: logger
        ).decode(UUID.self) {
            partners.append(id)
        }
        return partners
    }

    /// The spans within `limit` of each of `times`, overlapping spans merged, in time order: a page of
    /// changes spread over months loads the reports near each change, not everything in between.
    static func windows(around times: [Date], limit: TimeInterval) -> [(from: Date, to: Date)] {
        var windows: [(from: Date, to: Date)] = []
        for time in times.sorted() {
            let (from, to) = (time.addingTimeInterval(-limit), time.addingTimeInterval(limit))
            if let last = windows.last, from <= last.to {
                windows[windows.count - 1].to = max(last.to, to)
            } else {
                windows.append((from, to))
            }
        }
        return windows
    }

    /// A report's features for matching: its own fields projected onto the incident's. Its source is
    /// the system that took the call: the report's `member_system` when an exchange carries it.
    func features(of report: IncidentReport) -> MatchFeatures { Self.features(of: report, authority: policy.authority) }

    static func features(of report: IncidentReport, authority: AuthorityPolicy) -> MatchFeatures {
        MatchFeatures(
            incidentFields: IncidentMerge.fields(ofOne: report, policy: authority, names: MatchFeatures.incidentFields),
            source: report.fields["member_system"]?.stringValue ?? report.source.rawValue)
    }

    /// A report row as the neighbour query returns it: its projected fields not parsed yet.
    private struct Row: Sendable {
        var id: UUID
        var source: String
        var externalID: String
        var time: Date
        var data: String?
        var incident: UUID?
        var no: Int64?
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}

extension CanonicalRecord {
    /// `source:external_id`, how the hub names a report in incidents, decisions and audit entries.
    var reportKey: String { "\(source.rawValue):\(externalID)" }

    /// The record as identity resolution and the merge see a report.
    var incidentReport: IncidentReport {
        IncidentReport(kind: kind, source: source, externalID: externalID, sourceTime: sourceTime, fields: fields)
    }
}

/// The incidents one transaction's resolver wrote, at the versions it wrote, as the sharing rules
/// see them: their decided fields and the source systems of their reports.
final class DecidedIncidents {
    private(set) var entities: [UUID: CurrentEntity] = [:]

    func record(_ entity: CurrentEntity) { entities[entity.id] = entity }

    /// An incident absorbed into another: no longer current.
    func forget(_ id: UUID) { entities[id] = nil }
}
