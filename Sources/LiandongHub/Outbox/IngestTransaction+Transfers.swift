import Foundation
import LiandongModel
import PostgresNIO

extension IngestTransaction {
    /// Carries transfers in the transaction of the change: a changed record a routing rule sends
    /// elsewhere becomes a transfer (once per record and receiver), and a changed record that answers
    /// a transfer (it names the transferred record by a `transferred_from` link) records the
    /// receiver's number, acceptance and result on it. Each new transfer is owed to its receiver and
    /// each changed one back to its sender, as far as their agreements grant. Returns audit drafts.
    func carryTransfers(for entities: ChangedEntities) async throws -> [AuditDraft] {
        guard !policies.routing.rules.isEmpty else { return [] }
        let changed = entities.byKind.filter { kinds.all.contains($0.kind) }
        var created: [UUID] = []
        for (kind, ids) in changed where policies.routing.kinds.contains(kind) {
            created += try await openTransfers(kind, ids: ids)
        }
        var answered: [UUID] = []
        for (kind, ids) in changed {
            answered += try await recordAnswers(kind, ids: ids)
        }
        let transfers = try await transferSubjects(created + answered)
        enqueue(
            transfers.filter { created.contains($0.id) }.map { $0.as(.transfer) }
                + transfers.filter { answered.contains($0.id) }.map { $0.as(.transferFeedback) })
        return transfers.map { $0.auditDraft(created.contains($0.id) ? .transferCreate : .transferAnswer) }
    }

    /// Opens a transfer for every record of `ids` a rule matches; returns the new transfers' ids.
    private func openTransfers(_ kind: EntityKind, ids: [UUID]) async throws -> [UUID] {
        let rows = try await conn.guardedQuery(
            """
            SELECT id, source_system, external_id, data::text FROM \(unescaped: kind.rawValue) WHERE id = ANY(\(ids)::uuid[]) ORDER BY id
            """, logger: logger)
        var matches: [(id: UUID, number: String, rule: RoutingRule)] = []
        for try await (id, source, number, data) in rows.decode((UUID, String, String, String).self) {
            let fields = try FieldValue.storedObject(data)
            if let rule = policies.routing.rule(for: kind, from: SourceSystemID(source), fields: fields) { matches.append((id, number, rule)) }
        }
        guard !matches.isEmpty else { return [] }
        let inserted = try await conn.guardedQuery(
            """
            INSERT INTO transfer (rule, from_system, to_system, from_kind, from_entity, from_number, reason, mode,
                                  accept_deadline, feedback_deadline)
            SELECT t.rule, t.src, t.dst, \(kind.rawValue), t.entity, t.number, t.reason, t.mode,
                   now() + make_interval(secs => t.accept), now() + make_interval(secs => t.feedback)
            FROM UNNEST(\(matches.map(\.rule.name))::text[], \(matches.map(\.rule.from.rawValue))::text[],
                        \(matches.map(\.rule.to.rawValue))::text[], \(matches.map(\.id))::uuid[], \(matches.map(\.number))::text[],
                        \(matches.map(\.rule.reason))::text[], \(matches.map(\.rule.mode))::text[],
                        \(matches.map(\.rule.acceptWithin))::float8[], \(matches.map(\.rule.feedbackWithin))::float8[])
                 AS t(rule, src, dst, entity, number, reason, mode, accept, feedback)
            ON CONFLICT (from_entity, to_system) DO NOTHING
            RETURNING id
            """, logger: logger)
        var created: [UUID] = []
        for try await id in inserted.decode(UUID.self) { created.append(id) }
        return created
    }

    /// Records what changed records of `kind` say about transfers they answer: the receiver's own
    /// number, acceptance, and its result (`feedback`). Returns the transfers that changed.
    private func recordAnswers(_ kind: EntityKind, ids: [UUID]) async throws -> [UUID] {
        let rows = try await conn.guardedQuery(
            """
            UPDATE transfer t SET
                to_number = COALESCE(t.to_number, e.external_id),
                accepted_at = COALESCE(t.accepted_at, now()),
                feedback = COALESCE(e.data ->> 'feedback', t.feedback),
                feedback_at = CASE WHEN (e.data ->> 'feedback') IS DISTINCT FROM t.feedback AND e.data ->> 'feedback' IS NOT NULL
                                   THEN now() ELSE t.feedback_at END,
                version = t.version + 1
            FROM entity_link l JOIN \(unescaped: kind.rawValue) e ON e.id = l.from_entity
            WHERE l.from_entity = ANY(\(ids)::uuid[]) AND l.link_type = 'transferred_from'
              AND t.from_system = l.target_source AND t.from_number = l.target_external_id AND t.to_system = e.source_system
              AND (t.to_number IS NULL OR t.accepted_at IS NULL
                   OR (e.data ->> 'feedback' IS NOT NULL AND (e.data ->> 'feedback') IS DISTINCT FROM t.feedback))
            RETURNING t.id
            """, logger: logger)
        var changed: [UUID] = []
        for try await id in rows.decode(UUID.self) { changed.append(id) }
        return changed
    }

    /// Records the receiver's answer to the delivery of a transfer: accepted with its number (the
    /// delivery's receipt), or returned with its reason. The change is owed back to the sender.
    /// Returns the audit draft, or nothing when the transfer already had this answer.
    func recordDeliveryAnswer(transfer id: UUID, accepted receipt: String?, returned reason: String?)
        async throws -> [AuditDraft]
    {
        let rows = try await conn.guardedQuery(
            """
            UPDATE transfer SET
                accepted_at = CASE WHEN \(receipt)::text IS NULL THEN accepted_at ELSE COALESCE(accepted_at, now()) END,
                to_number = COALESCE(to_number, \(receipt)),
                returned_at = CASE WHEN \(reason)::text IS NULL THEN returned_at ELSE now() END,
                return_reason = COALESCE(\(reason), return_reason),
                version = version + 1
            WHERE id = \(id) AND ((\(receipt)::text IS NOT NULL AND (accepted_at IS NULL OR to_number IS NULL))
                                OR (\(reason)::text IS NOT NULL AND returned_at IS NULL))
            RETURNING id
            """, logger: logger)
        var changed: [UUID] = []
        for try await id in rows.decode(UUID.self) { changed.append(id) }
        let transfers = try await transferSubjects(changed)
        enqueue(transfers.map { $0.as(.transferFeedback) })
        return transfers.map { $0.auditDraft(.transferAnswer) }
    }

    /// Transfers as the sharing rules see them: the transfer's own facts, and under `record` the
    /// transferred record's current fields.
    func transferSubjects(_ ids: [UUID]) async throws -> [TransferSubject] {
        guard !ids.isEmpty else { return [] }
        let records = kinds.all.map { "SELECT id, data FROM \($0.rawValue)" }.joined(separator: " UNION ALL ")
        let rows = try await conn.guardedQuery(
            """
            SELECT t.id, t.version, t.no, t.rule, t.from_system, t.to_system, t.from_number, t.to_number, t.reason, t.mode,
                   t.accept_deadline, t.feedback_deadline, t.accepted_at, t.returned_at, t.return_reason, t.feedback, t.feedback_at,
                   (SELECT r.data::text FROM (\(unescaped: records)) r WHERE r.id = t.from_entity)
            FROM transfer t WHERE t.id = ANY(\(ids)::uuid[]) ORDER BY t.no
            """, logger: logger)
        var subjects: [TransferSubject] = []
        for try await row in rows {
            let c = try row.decode(
                (UUID, Int, Int64, String, String, String, String, String?, String, String, Date, Date, Date?, Date?, String?, String?,
                 Date?, String?).self)
            var fields: [String: FieldValue] = [
                "transfer_no": .number(Double(c.2)), "rule": .string(c.3), "from_system": .string(c.4), "to_system": .string(c.5),
                "from_number": .string(c.6), "reason": .string(c.8), "mode": .string(c.9),
                "accept_deadline": .string(c.10.canonicalText), "feedback_deadline": .string(c.11.canonicalText),
            ]
            fields["to_number"] = c.7.map(FieldValue.string)
            fields["accepted_at"] = c.12.map { .string($0.canonicalText) }
            fields["returned_at"] = c.13.map { .string($0.canonicalText) }
            fields["return_reason"] = c.14.map(FieldValue.string)
            fields["feedback"] = c.15.map(FieldValue.string)
            fields["feedback_at"] = c.16.map { .string($0.canonicalText) }
            fields["record"] = try c.17.map { try FieldValue(stored: $0) }
            subjects.append(TransferSubject(id: c.0, version: c.1, from: SourceSystemID(c.4), to: SourceSystemID(c.5), fields: fields))
        }
        return subjects
    }
}

/// A transfer's facts, to be delivered forward (to its receiver) or back (to its sender).
struct TransferSubject {
    var id: UUID
    var version: Int
    var from: SourceSystemID
    var to: SourceSystemID
    var fields: [String: FieldValue]

    /// The audit entry for this transfer's change: its own facts, not the transferred record's. The
    /// receiver's return reason is its words, so the append-only chain holds its SHA-256 instead.
    func auditDraft(_ action: AuditAction) -> AuditDraft {
        var content = fields.filter { $0.key != "record" }
        if let reason = content.removeValue(forKey: "return_reason")?.stringValue {
            content["return_reason_sha256"] = .string(Hub.sha256Hex(Array(reason.utf8)))
        }
        return AuditDraft(action: action, entityKind: EntityKind.transfer.rawValue, entityID: id.lowercasedText, content: content)
    }

    /// As a `transfer` (for the receiver; it comes from the sender) or a `transfer_feedback` (for
    /// the sender; it comes from the receiver), so that the no-echo rule sends each to the other side.
    func `as`(_ kind: EntityKind) -> CurrentEntity {
        CurrentEntity(
            id: id, version: version, subject: SharedSubject(kind: kind, fields: fields, sources: [kind == .transfer ? from : to]),
            onlyFor: kind == .transfer ? to : from)
    }
}
