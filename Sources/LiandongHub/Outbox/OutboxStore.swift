import Foundation
import LiandongModel
import PostgresNIO

/// Deliveries to receivers (`hub.outbox`): what is due, what each attempt answered, retries; and
/// the loops deliveries close: transfers, instruction receipts, warning call-outs.
public struct OutboxStore: HubStore {
    let hub: Hub
}

/// Where an outbox row stands.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for its next attempt.
    case pending
    /// The receiver accepted it.
    case delivered
    /// The receiver refused it, or every attempt failed: an admin looks at it and retries.
    case dead
    /// Held back: the receiver's sharing agreement had expired.
    case expired
    /// Retried (or approved) after a later version of the same entity had already reached the receiver.
    case superseded
    /// Held until an operator approves it: its receiver's agreement says `approval: required`.
    case awaitingApproval = "awaiting_approval"
    /// An operator refused it: it never goes.
    case refused
}

/// An operator's answer to a delivery that awaits approval.
public enum ApprovalDecision: String, Sendable, Codable {
    case approve, refuse
}

/// One outbox row: an entity version for one receiver, and what became of it.
public struct Delivery: Sendable, Codable {
    public var id: Int64
    public var target: String
    public var entityKind: String
    public var entityID: UUID
    public var entityVersion: Int
    public var idempotencyKey: String
    /// The agreement version the payload was granted under, and the one it went out under.
    public var agreementVersion: Int
    public var sentAgreementVersion: Int?
    /// Granted, masked fields.
    public var payload: [String: FieldValue]
    public var status: DeliveryStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var receipt: String?
    public var createdAt: Date
    public var deliveredAt: Date?
}

/// One attempt at a delivery.
public struct DeliveryAttempt: Sendable, Codable {
    public var attempt: Int
    public var at: Date
    public var outcome: String
    public var error: String?
    public var receipt: String?
    /// The receiver's answer to a failed or refused attempt, as text, and its content type. The hub
    /// reads it as UTF-8 (with replacement); `decoded()` (LiandongSync) reads it in its own charset.
    public var answer: String?
    public var answerContentType: String?
    /// The answer's bytes as received.
    public var answerBytes: [UInt8]?

    enum CodingKeys: String, CodingKey { case attempt, at, outcome, error, receipt, answer, answerContentType }
}

/// A delivery with its attempts and the document as sent, for `deliveries show`.
public struct DeliveryDetail: Sendable, Codable {
    public var delivery: Delivery
    public var attempts: [DeliveryAttempt]
    public var sentContentType: String?
    /// The document the receiver got, as text. The hub reads it as UTF-8 (with replacement);
    /// `decoded()` (LiandongSync) reads it in its own charset, GBK for 119.
    public var sentBody: String?
    /// The document's bytes exactly as sent.
    public var sentBytes: [UInt8]?

    enum CodingKeys: String, CodingKey { case delivery, attempts, sentContentType, sentBody }
}

/// How one attempt ended, as the pusher reports it.
public enum DeliveryOutcome: Sendable {
    /// Accepted: the receiver's answer, the document sent and the agreement version it went under.
    case delivered(receipt: String, body: [UInt8], contentType: String, agreementVersion: Int)
    /// Failed in a way a retry may cure; `retryAt` nil means no attempts are left (dead). `error` is
    /// the hub's own words (it goes to `last_error` and, when final, the audit chain); what the
    /// receiver answered is `answer`, kept with the attempt only.
    case failed(error: String, retryAt: Date?, answer: RemoteAnswer? = nil)
    /// Refused by the receiver (its answer says the document is wrong): dead at once.
    case rejected(error: String, answer: RemoteAnswer? = nil)
    /// Held back: the agreement expired before it could go.
    case expired(error: String)
}

extension DeliveryOutcome {
    /// `delivered`, `failed` (attempts left), `dead` (none left), `rejected` or `expired`: what became
    /// of the delivery, for metrics and logs.
    public var label: String {
        switch self {
        case .delivered: return "delivered"
        case .failed(_, _?, _): return "failed"
        case .failed(_, nil, _): return "dead"
        case .rejected: return "rejected"
        case .expired: return "expired"
        }
    }

    /// What the receiver answered, when it failed or refused.
    var answer: RemoteAnswer? {
        switch self {
        case .failed(_, _, let answer), .rejected(_, let answer): answer
        case .delivered, .expired: nil
        }
    }

    /// What `delivery_attempt.outcome` records: the attempt itself failed even when it was the last.
    var attemptOutcome: String { label == "dead" ? "failed" : label }

    /// The error, for any outcome but delivered.
    public var error: String? {
        switch self {
        case .delivered: return nil
        case .failed(let error, _, _), .rejected(let error, _), .expired(let error): return error
        }
    }
}

extension OutboxStore {
    private static let deliveryColumns = """
        SELECT o.id, o.target, o.entity_kind, o.entity_id, o.entity_version, o.idempotency_key, o.agreement_version,
               o.sent_agreement_version, o.payload::text, o.status, o.attempts, o.next_attempt_at, o.last_error, o.receipt,
               o.created_at, o.delivered_at
        FROM outbox o WHERE
        """

    /// Pending deliveries to `target` that are due, oldest first, skipping any whose entity has an
    /// earlier delivery still pending, so that each entity's versions arrive in order.
    public func due(target: String, limit: Int) async throws -> [Delivery] {
        try await deliveries(
            where: """
                o.target = \(target) AND o.status = 'pending' AND o.next_attempt_at <= now()
                  AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.target = o.target AND e.entity_id = o.entity_id
                                  AND e.id < o.id AND e.status = 'pending')
                ORDER BY o.id LIMIT \(limit)
                """)
    }

    /// When the next pending delivery to `target` is due, if any.
    public func nextDue(target: String) async throws -> Date? {
        let rows = try await self.rows(
            "SELECT min(next_attempt_at) FROM outbox WHERE target = \(target) AND status = 'pending'", logger: logger)
        for try await due in rows.decode(Date?.self) { return due }
        return nil
    }

    /// Waits (up to `seconds`) until no delivery (to `target`, else to anyone) is pending; true if none is.
    public func waitForDeliveries(to target: String? = nil, seconds: Double = 30) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await deliveries(statuses: [.pending], target: target, limit: 1).isEmpty { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Deliveries newest first, by status, receiver and kind when given: `limit` of them with ids below
    /// `before`.
    public func deliveries(
        statuses: [DeliveryStatus]?, target: String?, kind: String? = nil, before: Int64? = nil, limit: Int = 200
    ) async throws -> [Delivery] {
        let statusTexts = (statuses ?? DeliveryStatus.allCases).map(\.rawValue)
        return try await deliveries(
            where: """
                o.status = ANY(\(statusTexts)::text[]) AND (\(target)::text IS NULL OR o.target = \(target))
                AND (\(kind)::text IS NULL OR o.entity_kind = \(kind)) AND (\(before)::bigint IS NULL OR o.id < \(before))
                ORDER BY o.id DESC LIMIT \(max(1, min(limit, 500)))
                """)
    }

    /// Deliveries not yet delivered, by receiver and status (`pending`, `dead`, `expired`,
    /// `superseded`), and how many pending ones have failed at least once; read from the partial index
    /// of undelivered rows, never the whole outbox.
    public func undeliveredCounts() async throws -> [String: [String: Int]] {
        var counts: [String: [String: Int]] = [:]
        let rows = try await self.rows(
            """
            SELECT target, status, count(*)::int, count(*) FILTER (WHERE attempts > 0)::int FROM outbox
            WHERE status <> 'delivered' GROUP BY 1, 2
            """, logger: logger)
        for try await (target, status, count, failed) in rows.decode((String, String, Int, Int).self) {
            counts[target, default: [:]][status] = count
            if status == DeliveryStatus.pending.rawValue { counts[target, default: [:]]["failed"] = failed }
        }
        return counts
    }

    /// One delivery with its attempts and the document as sent.
    public func delivery(_ id: Int64) async throws -> DeliveryDetail {
        guard let delivery = try await deliveries(where: "o.id = \(id)").first else {
            throw HubError(.notFound, "delivery \(id) does not exist; 'liandong deliveries list' shows them")
        }
        var attempts: [DeliveryAttempt] = []
        let rows = try await self.rows(
            """
            SELECT attempt, at, outcome, error, receipt, answer, answer_content_type FROM delivery_attempt
            WHERE outbox_id = \(id) ORDER BY attempt
            """, logger: logger)
        for try await (attempt, at, outcome, error, receipt, answer, answerType) in rows.decode(
            (Int, Date, String, String?, String?, ByteBuffer?, String?).self)
        {
            attempts.append(
                DeliveryAttempt(
                    attempt: attempt, at: at, outcome: outcome, error: error, receipt: receipt,
                    answer: answer.map { String(decoding: $0.readableBytesView, as: UTF8.self) }, answerContentType: answerType,
                    answerBytes: answer.map { Array(buffer: $0) }))
        }
        var body: [UInt8]?
        var contentType: String?
        let sent = try await self.rows("SELECT sent_body, sent_content_type FROM outbox WHERE id = \(id)", logger: logger)
        for try await (bytes, type) in sent.decode((ByteBuffer?, String?).self) {
            body = bytes.map { Array(buffer: $0) }
            contentType = type
        }
        return DeliveryDetail(
            delivery: delivery, attempts: attempts, sentContentType: contentType, sentBody: body.map { String(decoding: $0, as: UTF8.self) },
            sentBytes: body)
    }

    /// Records one attempt's outcome, in one transaction. A final outcome (delivered, dead, expired)
    /// is audited; a failure with attempts left only schedules the next one.
    public func record(_ outcome: DeliveryOutcome, of delivery: Delivery) async throws {
        let attempt = delivery.attempts + 1
        try await hub.withIngestTransaction { tx, head in
            let conn = tx.conn
            var audit: [String: FieldValue] = [
                "target": .string(delivery.target), "entity_kind": .string(delivery.entityKind),
                "entity_version": .number(Double(delivery.entityVersion)), "attempt": .number(Double(attempt)),
            ]
            switch outcome {
            case .delivered(let receipt, let body, let contentType, let agreementVersion):
                try await conn.guardedQuery(
                    """
                    UPDATE outbox SET status = 'delivered', attempts = \(attempt), receipt = \(receipt), last_error = NULL,
                        sent_body = \(ByteBuffer(bytes: body)), sent_content_type = \(contentType),
                        sent_agreement_version = \(agreementVersion), delivered_at = now()
                    WHERE id = \(delivery.id)
                    """, logger: logger)
                try await insertAttempt(conn, delivery.id, attempt, outcome.attemptOutcome, receipt: receipt)
                audit["receipt"] = .string(receipt)
                audit["agreement_version"] = .number(Double(agreementVersion))
                audit["sha256"] = .string(Hub.sha256Hex(body))
                var drafts = [AuditDraft(action: .deliverySent, entityKind: "outbox", entityID: "\(delivery.id)", content: audit)]
                if delivery.entityKind == EntityKind.transfer.rawValue {
                    drafts += try await tx.recordDeliveryAnswer(transfer: delivery.entityID, accepted: receipt, returned: nil)
                }
                drafts += try await tx.callOut(for: delivery)
                tx.append(drafts, after: head)
            case .failed(let error, let retryAt?, let answer):
                try await conn.guardedQuery(
                    """
                    UPDATE outbox SET attempts = \(attempt), last_error = \(error), next_attempt_at = \(retryAt) WHERE id = \(delivery.id)
                    """, logger: logger)
                try await insertAttempt(conn, delivery.id, attempt, outcome.attemptOutcome, error: error, answer: answer)
            case .failed(let error, nil, _), .rejected(let error, _), .expired(let error):
                let status: DeliveryStatus = if case .expired = outcome { .expired } else { .dead }
                try await conn.guardedQuery(
                    """
                    UPDATE outbox SET status = \(status.rawValue), attempts = \(attempt), last_error = \(error) WHERE id = \(delivery.id)
                    """, logger: logger)
                try await insertAttempt(conn, delivery.id, attempt, outcome.attemptOutcome, error: error, answer: outcome.answer)
                audit["error"] = .string(error)
                var drafts = [AuditDraft(action: .delivery(status), entityKind: "outbox", entityID: "\(delivery.id)", content: audit)]
                // A receiver refusing a transfer returns it (退回): the sender hears of it.
                if case .rejected(_, let answer) = outcome, delivery.entityKind == EntityKind.transfer.rawValue {
                    drafts += try await tx.recordDeliveryAnswer(
                        transfer: delivery.entityID, accepted: nil, returned: answer?.reason ?? error)
                }
                tx.append(drafts, after: head)
            }
        }
    }

    /// Puts dead or expired deliveries back in the queue (all of them with `ids` nil, else those
    /// given), audited. A delivery whose entity has since reached the receiver at a later version
    /// is marked superseded instead: the receiver already has newer data. A receiver whose agreement
    /// requires approval gets its deliveries back as awaiting approval, never straight into the
    /// queue. Returns the rows changed.
    public func retry(
        _ ids: [Int64]?, statuses: [DeliveryStatus], by actor: ActingUser
    ) async throws -> [(id: Int64, status: DeliveryStatus)] {
        let approving = policies.sharing.agreements.values.filter(\.approvalRequired).map(\.receiver.rawValue).sorted()
        return try await hub.withIngestTransaction { tx, head in
            let conn = tx.conn
            let rows = try await conn.guardedQuery(
                """
                UPDATE outbox o SET
                    status = CASE WHEN \(unescaped: Self.laterVersionDelivered) THEN 'superseded'
                             WHEN o.target = ANY(\(approving)::text[]) THEN 'awaiting_approval' ELSE 'pending' END,
                    next_attempt_at = now(), attempts = 0
                WHERE o.status = ANY(\(statuses.map(\.rawValue))::text[]) AND (\(ids)::bigint[] IS NULL OR o.id = ANY(\(ids)::bigint[]))
                RETURNING o.id, o.status, o.target
                """, logger: logger)
            var changed: [(id: Int64, status: DeliveryStatus)] = []
            var targets = Set<String>()
            for try await (id, status, target) in rows.decode((Int64, String, String).self) {
                changed.append((id, DeliveryStatus(rawValue: status) ?? .pending))
                targets.insert(target)
            }
            changed.sort { $0.id < $1.id }
            tx.append(
                changed.map {
                    AuditDraft(action: .deliveryRetry, entityKind: "outbox", entityID: "\($0.id)", content: ["status": .string($0.status.rawValue)])
                        .signed(by: actor)
                }, after: head)
            tx.notifyPushers(targets)
            return changed
        }
    }

    /// Whether a later version of outbox row `o`'s entity has reached its receiver: such a row is
    /// superseded when it is retried or approved, never sent with stale data.
    static let laterVersionDelivered = """
        EXISTS (SELECT 1 FROM outbox n WHERE n.target = o.target AND n.entity_id = o.entity_id
                AND n.entity_version > o.entity_version AND n.status = 'delivered')
        """

    /// Answers deliveries awaiting approval (`ids`), audited with who and why: approved ones are queued
    /// (superseded if a later version of their entity already reached the receiver), refused ones
    /// never go. Returns the rows changed; ids not awaiting approval are left alone.
    public func decide(
        _ ids: [Int64], _ decision: ApprovalDecision, by actor: ActingUser
    ) async throws -> [(id: Int64, status: DeliveryStatus)] {
        try await hub.withIngestTransaction { tx, head in
            let approve = decision == .approve
            let rows = try await tx.conn.guardedQuery(
                """
                UPDATE outbox o SET
                    status = CASE WHEN NOT \(approve) THEN 'refused'
                                  WHEN \(unescaped: Self.laterVersionDelivered) THEN 'superseded' ELSE 'pending' END,
                    next_attempt_at = now(),
                    last_error = CASE WHEN \(approve) THEN NULL ELSE 'refused by ' || \(actor.name) END
                WHERE o.status = 'awaiting_approval' AND o.id = ANY(\(ids)::bigint[])
                RETURNING o.id, o.status, o.target, o.entity_kind, o.entity_version
                """, logger: logger)
            var changed: [(id: Int64, status: DeliveryStatus)] = []
            var drafts: [AuditDraft] = []
            var targets = Set<String>()
            for try await (id, status, target, kind, version) in rows.decode((Int64, String, String, String, Int).self) {
                changed.append((id, DeliveryStatus(rawValue: status) ?? .pending))
                targets.insert(target)
                drafts.append(
                    AuditDraft(
                        action: approve ? .deliveryApprove : .deliveryRefuse, entityKind: "outbox", entityID: "\(id)",
                        content: [
                            "target": .string(target), "entity_kind": .string(kind), "entity_version": .number(Double(version)),
                            "status": .string(status),
                        ]
                    ).signed(by: actor))
            }
            tx.append(drafts.sorted { Int64($0.entityID) ?? 0 < Int64($1.entityID) ?? 0 }, after: head)
            if approve { tx.notifyPushers(targets) }
            return changed.sorted { $0.id < $1.id }
        }
    }

    /// Counts of deliveries by target and status.
    public func counts() async throws -> [String: [String: Int]] {
        var counts: [String: [String: Int]] = [:]
        let rows = try await self.rows("SELECT target, status, count(*) FROM outbox GROUP BY 1, 2", logger: logger)
        for try await (target, status, count) in rows.decode((String, String, Int).self) { counts[target, default: [:]][status] = count }
        return counts
    }

    private func insertAttempt(
        _ conn: PostgresConnection, _ id: Int64, _ attempt: Int, _ outcome: String, error: String? = nil, receipt: String? = nil,
        answer: RemoteAnswer? = nil
    ) async throws {
        try await conn.guardedQuery(
            """
            INSERT INTO delivery_attempt (outbox_id, attempt, outcome, error, receipt, answer, answer_content_type)
            VALUES (\(id), \(attempt), \(outcome), \(error), \(receipt), \(answer.map { ByteBuffer(bytes: $0.body) }), \(answer?.contentType))
            ON CONFLICT (outbox_id, attempt) DO NOTHING
            """, logger: logger)
    }

    private func deliveries(where condition: PostgresQuery) async throws -> [Delivery] {
        let query = PostgresQuery(unsafeSQL: Self.deliveryColumns + " " + condition.sql, binds: condition.binds)
        var result: [Delivery] = []
        for try await row in try await self.rows(query, logger: logger) {
            let c = try row.decode(
                (Int64, String, String, UUID, Int, String, Int, Int?, String, String, Int, Date, String?, String?, Date, Date?).self)
            result.append(
                Delivery(
                    id: c.0, target: c.1, entityKind: c.2, entityID: c.3, entityVersion: c.4, idempotencyKey: c.5,
                    agreementVersion: c.6, sentAgreementVersion: c.7, payload: try FieldValue.storedObject(c.8),
                    status: DeliveryStatus(rawValue: c.9) ?? .pending, attempts: c.10, nextAttemptAt: c.11, lastError: c.12,
                    receipt: c.13, createdAt: c.14, deliveredAt: c.15))
        }
        return result
    }
}

extension OutboxStore {
    /// Calls `wake` with the target of every outbox change committed from now on (`NOTIFY` on
    /// `outboxChannel`), on one connection of its own, until cancelled or the connection drops.
    public func listen(_ wake: @escaping @Sendable (String) -> Void) async throws {
        try await hub.client.withConnection { conn in
            try await ConnectionGuard.guarded(conn) {
                try await conn.listen(on: Hub.outboxChannel) { notifications in
                    for try await notification in notifications { wake(notification.payload) }
                }
            }
        }
    }
}
