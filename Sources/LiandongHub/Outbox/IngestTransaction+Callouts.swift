import Foundation
import LiandongModel
import PostgresNIO

extension IngestTransaction {
    /// Calls the responsible people of `delivery`'s receiver when it delivered a warning of a colour
    /// its agreement's call-out names: one call-out row per person (once per warning), the people
    /// named and the monitors of the receiver's points the warning covers. A person whose
    /// acknowledgement already came back is marked acknowledged at once. Returns audit drafts.
    func callOut(for delivery: Delivery) async throws -> [AuditDraft] {
        guard delivery.entityKind == EntityKind.warning.rawValue,
            let callout = policies.sharing.agreements[SourceSystemID(delivery.target)]?.callout
        else { return [] }
        var people = callout.people
        if let kind = callout.monitors { people += try await monitors(of: kind, at: delivery.target, coveredBy: delivery.entityID) }
        let rows = try await conn.guardedQuery(
            """
            INSERT INTO callout (target, warning_entity, warning_id, colour, person, outbox_id, acknowledged_at, acknowledgement)
            SELECT \(delivery.target), w.id, w.external_id, w.colour, p.person, \(delivery.id), a.acknowledged_at, a.id
            FROM warning w CROSS JOIN UNNEST(\(people)::text[]) AS p(person)
            LEFT JOIN LATERAL (SELECT id, acknowledged_at FROM acknowledgement
                               WHERE source_system = \(delivery.target) AND warning_id = w.external_id AND person = p.person
                               ORDER BY acknowledged_at LIMIT 1) a ON true
            WHERE w.id = \(delivery.entityID) AND w.colour = ANY(\(Array(callout.colours).sorted())::text[])
            ON CONFLICT (target, warning_entity, person) DO NOTHING
            RETURNING id, warning_id, person, colour
            """, logger: logger)
        var drafts: [AuditDraft] = []
        for try await (id, warning, person, colour) in rows.decode((Int64, String, String, String).self) {
            drafts.append(
                AuditDraft(
                    action: .calloutCreate, entityKind: "callout", entityID: "\(id)",
                    content: [
                        "target": .string(delivery.target), "warning": .string(warning), "person": .string(person), "colour": .string(colour),
                    ]))
        }
        return drafts
    }

    /// The monitors (`monitor`) of `target`'s records of `kind` whose `location` or `division_code`
    /// the area of `warning` covers, each once; a point whose `status` is `retired` is not called.
    private func monitors(of kind: EntityKind, at target: String, coveredBy warning: UUID) async throws -> [String] {
        guard kinds.all.contains(kind) else { return [] }
        var area: WarningArea?
        for try await data in try await conn.guardedQuery("SELECT data::text FROM warning WHERE id = \(warning)", logger: logger).decode(String.self) {
            area = WarningArea(warning: try FieldValue.storedObject(data))
        }
        guard let area else { return [] }
        var people: [String] = []
        let points = try await conn.guardedQuery(
            "SELECT data::text FROM \(unescaped: kind.rawValue) WHERE source_system = \(target) ORDER BY external_id", logger: logger)
        for try await data in points.decode(String.self) {
            let point = try FieldValue.storedObject(data)
            let location = point["location"]?.objectValue
            guard let monitor = point["monitor"]?.scalarText, !people.contains(monitor), point["status"]?.stringValue != "retired",
                area.covers(lat: location?["lat"]?.numberValue, lon: location?["lon"]?.numberValue, division: point["division_code"]?.scalarText)
            else { continue }
            people.append(monitor)
        }
        return people
    }

    /// Marks call-outs acknowledged by the acknowledgements just stored. Returns audit drafts.
    func recordAcknowledgements(for changed: ChangedEntities) async throws -> [AuditDraft] {
        let ids = changed.ids(of: .acknowledgement)
        guard !ids.isEmpty else { return [] }
        let rows = try await conn.guardedQuery(
            """
            UPDATE callout c SET acknowledged_at = a.acknowledged_at, acknowledgement = a.id
            FROM acknowledgement a
            WHERE a.id = ANY(\(ids)::uuid[]) AND c.target = a.source_system AND c.warning_id = a.warning_id
              AND c.person = a.person AND c.acknowledged_at IS NULL AND a.acknowledged_at IS NOT NULL
            RETURNING c.id, c.target, c.warning_id, c.person
            """, logger: logger)
        var acknowledged: [AuditDraft] = []
        for try await (id, target, warning, person) in rows.decode((Int64, String, String, String).self) {
            acknowledged.append(
                AuditDraft(
                    action: .calloutAcknowledge, entityKind: "callout", entityID: "\(id)",
                    content: ["target": .string(target), "warning": .string(warning), "person": .string(person)]))
        }
        return acknowledged.sorted { Int64($0.entityID) ?? 0 < Int64($1.entityID) ?? 0 }
    }
}

/// One responsible person's call-out for one warning, as `warnings calls` shows it.
public struct CalloutView: Sendable, Codable {
    public var id: Int64
    public var target: String
    public var warningID: String
    public var colour: String
    public var person: String
    public var calledAt: Date
    public var acknowledgedAt: Date?
}

extension OutboxStore {
    /// Call-outs, newest first; with `unacknowledgedOnly`, those still waiting for their person.
    public func callouts(unacknowledgedOnly: Bool = false, limit: Int = 500) async throws -> [CalloutView] {
        let rows = try await self.rows(
            """
            SELECT id, target, warning_id, colour, person, called_at, acknowledged_at FROM callout
            WHERE NOT \(unacknowledgedOnly) OR acknowledged_at IS NULL
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var views: [CalloutView] = []
        for try await (id, target, warning, colour, person, called, acknowledged) in rows.decode(
            (Int64, String, String, String, String, Date, Date?).self)
        {
            views.append(
                CalloutView(
                    id: id, target: target, warningID: warning, colour: colour, person: person, calledAt: called, acknowledgedAt: acknowledged))
        }
        return views
    }
}
