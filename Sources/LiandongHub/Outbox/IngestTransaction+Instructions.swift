import Foundation
import LiandongModel
import PostgresNIO

extension IngestTransaction {
    /// Tracks bureau instructions (指令) in the transaction of the change: a changed instruction gets a
    /// receipt per addressee (its delivery is the sharing agreements' business: `addressed: true`),
    /// and a changed reply from an addressee records its acknowledgement (签收) and feedback (反馈) on
    /// the receipt. Each new or changed receipt that holds an answer is owed back to the issuer as
    /// `instruction_feedback`. Returns audit drafts.
    func carryInstructions(for changed: ChangedEntities) async throws -> [AuditDraft] {
        let instructions = changed.ids(of: .instruction)
        let replies = changed.ids(of: .instructionReply)
        guard !instructions.isEmpty || !replies.isEmpty else { return [] }
        let addressed = try await openReceipts(for: instructions)
        let answered = try await recordReplies(replies)
        let receipts = try await receiptSubjects(addressed + answered)
        enqueue(
            receipts.filter { answered.contains($0.id) || $0.fields["acknowledged_at"] != nil }.map(\.feedback))
        return receipts.map { $0.auditDraft(answered.contains($0.id) ? .instructionReply : .instructionReceipt) }
    }

    /// A receipt for every addressee of `ids` not yet holding one (an addressee added by a later
    /// version gets one then), with any reply that came before it; a later version that moves the
    /// feedback deadline moves it on every receipt. Returns the receipts written or changed.
    private func openReceipts(for ids: [UUID]) async throws -> [UUID] {
        guard !ids.isEmpty else { return [] }
        let rows = try await conn.guardedQuery(
            """
            INSERT INTO instruction_receipt (instruction, instruction_no, issuer, addressee, feedback_deadline,
                                             acknowledged_at, acknowledged_by, feedback, feedback_at)
            SELECT i.id, i.external_id, i.source_system, a.addressee, hub_time(i.data ->> 'feedback_deadline'),
                   hub_time(r.data ->> 'acknowledged_at'), r.data ->> 'acknowledged_by', r.data ->> 'feedback',
                   hub_time(r.data ->> 'feedback_at')
            FROM instruction i CROSS JOIN jsonb_array_elements_text(i.data -> 'addressees') AS a(addressee)
            LEFT JOIN LATERAL (SELECT data FROM instruction_reply
                               WHERE source_system = a.addressee AND instruction_no = i.external_id
                               ORDER BY source_time DESC LIMIT 1) r ON true
            WHERE i.id = ANY(\(ids)::uuid[])
            ORDER BY i.external_id, a.addressee
            ON CONFLICT (instruction, addressee) DO UPDATE
                SET feedback_deadline = EXCLUDED.feedback_deadline, version = instruction_receipt.version + 1
                WHERE instruction_receipt.feedback_deadline IS DISTINCT FROM EXCLUDED.feedback_deadline
            RETURNING id
            """, logger: logger)
        var created: [UUID] = []
        for try await id in rows.decode(UUID.self) { created.append(id) }
        return created
    }

    /// Records what the replies `ids` say on the receipts of their instructions. Returns the receipts
    /// that changed.
    private func recordReplies(_ ids: [UUID]) async throws -> [UUID] {
        guard !ids.isEmpty else { return [] }
        let rows = try await conn.guardedQuery(
            """
            UPDATE instruction_receipt r SET
                acknowledged_at = COALESCE(r.acknowledged_at, hub_time(e.data ->> 'acknowledged_at')),
                acknowledged_by = COALESCE(r.acknowledged_by, e.data ->> 'acknowledged_by'),
                feedback = COALESCE(e.data ->> 'feedback', r.feedback),
                feedback_at = COALESCE(hub_time(e.data ->> 'feedback_at'), r.feedback_at),
                version = r.version + 1
            FROM instruction_reply e
            WHERE e.id = ANY(\(ids)::uuid[]) AND r.addressee = e.source_system AND r.instruction_no = e.data ->> 'instruction_no'
              AND ((r.acknowledged_at IS NULL AND e.data ->> 'acknowledged_at' IS NOT NULL)
                   OR (e.data ->> 'feedback' IS NOT NULL AND (e.data ->> 'feedback') IS DISTINCT FROM r.feedback))
            RETURNING r.id
            """, logger: logger)
        var changed: [UUID] = []
        for try await id in rows.decode(UUID.self) { changed.append(id) }
        return changed
    }

    /// Receipts as the sharing rules see them.
    private func receiptSubjects(_ ids: [UUID]) async throws -> [InstructionReceiptSubject] {
        guard !ids.isEmpty else { return [] }
        let rows = try await conn.guardedQuery(
            """
            SELECT id, version, instruction_no, issuer, addressee, feedback_deadline, acknowledged_at, acknowledged_by, feedback, feedback_at
            FROM instruction_receipt WHERE id = ANY(\(ids)::uuid[]) ORDER BY instruction_no, addressee
            """, logger: logger)
        var subjects: [InstructionReceiptSubject] = []
        for try await (id, version, number, issuer, addressee, deadline, acknowledged, by, feedback, feedbackAt) in rows.decode(
            (UUID, Int, String, String, String, Date?, Date?, String?, String?, Date?).self)
        {
            var fields: [String: FieldValue] = ["instruction_no": .string(number), "issuer": .string(issuer), "addressee": .string(addressee)]
            fields["feedback_deadline"] = deadline.map { .string($0.canonicalText) }
            fields["acknowledged_at"] = acknowledged.map { .string($0.canonicalText) }
            fields["acknowledged_by"] = by.map(FieldValue.string)
            fields["feedback"] = feedback.map(FieldValue.string)
            fields["feedback_at"] = feedbackAt.map { .string($0.canonicalText) }
            subjects.append(
                InstructionReceiptSubject(id: id, version: version, issuer: SourceSystemID(issuer), addressee: SourceSystemID(addressee), fields: fields))
        }
        return subjects
    }
}

/// One addressee's receipt of one instruction, to be reported back to the issuer.
struct InstructionReceiptSubject {
    var id: UUID
    var version: Int
    var issuer: SourceSystemID
    var addressee: SourceSystemID
    var fields: [String: FieldValue]

    func auditDraft(_ action: AuditAction) -> AuditDraft {
        AuditDraft(action: action, entityKind: "instruction_receipt", entityID: id.lowercasedText, content: fields)
    }

    /// As `instruction_feedback`: from the addressee, for the issuer only.
    var feedback: CurrentEntity {
        CurrentEntity(
            id: id, version: version, subject: SharedSubject(kind: .instructionFeedback, fields: fields, sources: [addressee]), onlyFor: issuer)
    }
}

/// One addressee's receipt of one instruction, as `instructions list` shows it.
public struct InstructionReceiptView: Sendable, Codable {
    public var instructionNo: String
    public var title: String?
    public var issuer: String
    public var addressee: String
    public var issuedAt: Date?
    public var feedbackDeadline: Date?
    /// The delivery to the addressee: `delivered`, `pending`, `dead`, `expired`, or `none` when no
    /// agreement lets it go out.
    public var delivery: String
    public var acknowledgedAt: Date?
    public var acknowledgedBy: String?
    public var feedback: String?
    public var feedbackAt: Date?
    /// `answered` (feedback in), `acknowledged` (signed for, feedback due), `delivered` or `waiting`.
    public var state: String
    /// Whether the feedback deadline passed with no feedback.
    public var overdue: Bool
}

extension OutboxStore {
    /// Every addressee's receipt of every instruction, newest instruction first; with `pendingOnly`,
    /// those without feedback yet, with `overdueOnly`, those without feedback past their deadline,
    /// and with `concerning`, those of instructions about these reports (their `concerns` link).
    public func instructionReceipts(
        pendingOnly: Bool = false, overdueOnly: Bool = false, concerning reports: [UUID]? = nil, limit: Int = 500
    ) async throws -> [InstructionReceiptView] {
        let rows = try await self.rows(
            """
            SELECT r.instruction_no, i.data ->> 'title', r.issuer, r.addressee, i.issued_at, r.feedback_deadline,
                   COALESCE((SELECT o.status FROM outbox o WHERE o.target = r.addressee AND o.entity_id = r.instruction
                             ORDER BY o.entity_version DESC, o.id DESC LIMIT 1), 'none'),
                   r.acknowledged_at, r.acknowledged_by, r.feedback, r.feedback_at,
                   r.feedback IS NULL AND r.feedback_deadline IS NOT NULL AND now() > r.feedback_deadline
            FROM instruction_receipt r JOIN instruction i ON i.id = r.instruction
            WHERE (NOT \(pendingOnly || overdueOnly) OR r.feedback IS NULL)
              AND (NOT \(overdueOnly) OR now() > r.feedback_deadline)
              AND (\(reports == nil) OR EXISTS (
                  SELECT 1 FROM entity_link l JOIN xref x ON x.source_system = l.target_source AND x.external_id = l.target_external_id
                  WHERE l.from_entity = r.instruction AND l.link_type = 'concerns' AND x.entity_id = ANY(\(reports ?? [])::uuid[])))
            ORDER BY i.issued_at DESC NULLS LAST, r.instruction_no DESC, r.addressee LIMIT \(limit)
            """, logger: logger)
        var views: [InstructionReceiptView] = []
        for try await row in rows {
            let c = try row.decode((String, String?, String, String, Date?, Date?, String, Date?, String?, String?, Date?, Bool).self)
            let state = c.9 != nil ? "answered" : c.7 != nil ? "acknowledged" : c.6 == DeliveryStatus.delivered.rawValue ? "delivered" : "waiting"
            views.append(
                InstructionReceiptView(
                    instructionNo: c.0, title: c.1, issuer: c.2, addressee: c.3, issuedAt: c.4, feedbackDeadline: c.5, delivery: c.6,
                    acknowledgedAt: c.7, acknowledgedBy: c.8, feedback: c.9, feedbackAt: c.10, state: state, overdue: c.11))
        }
        return views
    }
}
