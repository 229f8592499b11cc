import Foundation
import LiandongModel
import PostgresNIO

extension IngestTransaction {
    /// Records `changes` and what they entail, all in this transaction (which stays open): transfers
    /// opened or answered, call-outs acknowledged, instructions tracked per addressee, the audit
    /// entries of all of them chained after `head`, and the deliveries owed for every new version.
    /// `decided` are the incidents this transaction wrote, as written.
    func recordChanges(_ changes: ChangeSet, after head: (seq: Int64, hash: [UInt8]), decided: DecidedIncidents? = nil) async throws {
        let changed = changes.changedEntities
        var all = changes
        all += try await carryTransfers(for: changed) + recordAcknowledgements(for: changed) + carryInstructions(for: changed)
        append(all.entries(after: head))
        try await enqueueDeliveries(for: changed, known: decided?.entities ?? [:])
    }

    /// Sends the wake-up of the pushers of `targets`; PostgreSQL sends the notifications at commit.
    func notifyPushers(_ targets: Set<String>) {
        guard !targets.isEmpty else { return }
        pending.send("SELECT pg_notify(\(Hub.outboxChannel), t) FROM UNNEST(\(targets.sorted())::text[]) AS t")
    }

    /// Writes an outbox row for every receiver entitled to each entity these drafts changed, in the
    /// transaction of the change: the granted, masked fields under the agreement's current version.
    /// Rows for an expired agreement are written as `expired`, so that admins see what is held back;
    /// rows for a receiver whose agreement requires approval wait as `awaiting_approval`.
    /// Wakes pushers with a `NOTIFY` that PostgreSQL sends when the transaction commits. Entities in
    /// `known` (this transaction wrote them and holds them as written) are not read back.
    func enqueueDeliveries(
        for changed: ChangedEntities, known: [UUID: CurrentEntity] = [:], at now: Date = Date()
    ) async throws {
        guard !policies.sharing.agreements.isEmpty else { return }
        var entities: [CurrentEntity] = []
        for (kind, ids) in changed.byKind where !policies.sharing.receivers(of: kind).isEmpty {
            entities += ids.compactMap { known[$0] }
            entities += try await currentVersions(of: kind, ids: ids.filter { known[$0] == nil })
        }
        // Incidents are the hub's own: no record names one as superseded.
        let followers = try await receiversOfSuperseded(entities.filter { $0.subject.kind != .incident }.map(\.id))
        for index in entities.indices { entities[index].followers = followers[entities[index].id] ?? [] }
        enqueue(entities, at: now)
    }

    /// For each entity that supersedes others (a warning's update or cancel), the receivers owed
    /// what it supersedes.
    private func receiversOfSuperseded(_ ids: [UUID]) async throws -> [UUID: Set<SourceSystemID>] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await conn.guardedQuery(
            """
            SELECT DISTINCT l.from_entity, o.target
            FROM entity_link l
            JOIN xref x ON x.source_system = l.target_source AND x.external_id = l.target_external_id
            JOIN outbox o ON o.entity_id = x.entity_id AND o.status <> 'superseded'
            WHERE l.link_type = 'supersedes' AND l.from_entity = ANY(\(ids)::uuid[])
            """, logger: logger)
        var followers: [UUID: Set<SourceSystemID>] = [:]
        for try await (id, target) in rows.decode((UUID, String).self) { followers[id, default: []].insert(SourceSystemID(target)) }
        return followers
    }

    /// Sends the outbox rows `entities` owe their receivers (those named, else every agreement
    /// naming the kind), with a `NOTIFY` to each target a row was written for, in one statement.
    func enqueue(_ entities: [CurrentEntity], at now: Date = Date()) {
        let sharing = policies.sharing
        // Each entity's decisions, payloads and keys are its own: made on every core.
        let rows = entities.concurrentMap(minimumChunk: 32) { entity in
            sharing.receivers(of: entity.subject.kind).compactMap { agreement -> OutboxRow? in
                guard entity.onlyFor.map({ $0 == agreement.receiver }) ?? true else { return nil }
                let follows = entity.followers.contains(agreement.receiver)
                switch sharing.decide(entity.subject, for: agreement.receiver, at: now, followsEarlier: follows) {
                case .share(let fields, let agreement):
                    return OutboxRow(entity: entity, agreement: agreement, payload: fields, expired: false)
                case .expired(let fields, let agreement):
                    return OutboxRow(entity: entity, agreement: agreement, payload: fields, expired: true)
                case .notEntitled:
                    return nil
                }
            }
        }.flatMap { $0 }
        guard !rows.isEmpty else { return }
        pending.send(
            """
            WITH inserted AS (
            INSERT INTO outbox (target, entity_kind, entity_id, entity_version, idempotency_key, agreement_version, payload,
                                status, last_error)
            SELECT t.target, t.kind, t.id, t.version, t.key, t.av, t.payload::jsonb, t.status, NULLIF(t.error, '')
            FROM UNNEST(\(rows.map(\.agreement.receiver.rawValue))::text[], \(rows.map(\.entity.subject.kind.rawValue))::text[],
                        \(rows.map(\.entity.id))::uuid[], \(rows.map(\.entity.version))::int[], \(rows.map(\.idempotencyKey))::text[],
                        \(rows.map(\.agreement.version))::int[], \(rows.map(\.payloadJSON))::text[], \(rows.map(\.status))::text[],
                        \(rows.map(\.error))::text[])
                 AS t(target, kind, id, version, key, av, payload, status, error)
            ORDER BY t.kind, t.id, t.version
            ON CONFLICT (target, entity_id, entity_version) DO NOTHING
            RETURNING target)
            SELECT pg_notify(\(Hub.outboxChannel), target) FROM (SELECT DISTINCT target FROM inserted ORDER BY target) AS t
            """)
    }

    /// The current version of each entity, as the sharing rules see it.
    private func currentVersions(of kind: EntityKind, ids: [UUID]) async throws -> [CurrentEntity] {
        guard !ids.isEmpty else { return [] }
        let query: PostgresQuery
        if kind == .incident {
            query = """
                SELECT i.id, i.version, i.data::text,
                       ARRAY(SELECT DISTINCT x.source_system FROM incident_report r JOIN xref x ON x.entity_id = r.report_id
                             WHERE r.incident_id = i.id ORDER BY 1)
                FROM incident i WHERE i.id = ANY(\(ids)::uuid[]) AND i.merged_into IS NULL
                """
        } else {
            query = """
                SELECT id, version, data::text, ARRAY[source_system] FROM \(unescaped: kind.rawValue) WHERE id = ANY(\(ids)::uuid[])
                """
        }
        var entities: [CurrentEntity] = []
        for try await (id, version, data, sources) in try await conn.guardedQuery(query, logger: logger).decode(
            (UUID, Int, String, [String]).self)
        {
            let fields = try FieldValue.storedObject(data)
            entities.append(
                CurrentEntity(
                    id: id, version: version,
                    subject: SharedSubject(kind: kind, fields: fields, sources: Set(sources.map { SourceSystemID($0) }))))
        }
        return entities
    }


    /// One delivery owed, its columns written out (on the core that decided it).
    private struct OutboxRow: Sendable {
        var entity: CurrentEntity
        var agreement: SharingAgreement
        var idempotencyKey: String
        var payloadJSON: String
        var status: String
        var error: String

        init(entity: CurrentEntity, agreement: SharingAgreement, payload: [String: FieldValue], expired: Bool) {
            self.entity = entity
            self.agreement = agreement
            idempotencyKey = Hub.idempotencyKey(
                target: agreement.receiver.rawValue, kind: entity.subject.kind.rawValue, id: entity.id, version: entity.version)
            payloadJSON = FieldValue.object(payload).canonicalJSON
            let status: DeliveryStatus = expired ? .expired : agreement.approvalRequired ? .awaitingApproval : .pending
            self.status = status.rawValue
            error = expired ? agreement.expiryMessage : ""
        }
    }
}

/// The entities a transaction left at a new version, by kind: worked out once per commit and read
/// by each of its consequences (transfers, acknowledgements, instructions, deliveries).
struct ChangedEntities {
    var byKind: [(kind: EntityKind, ids: [UUID])]

    /// The changed entities of `kind`.
    func ids(of kind: EntityKind) -> [UUID] { byKind.first { $0.kind == kind }?.ids ?? [] }
}

/// An entity version about to be owed to receivers.
struct CurrentEntity: Sendable {
    var id: UUID
    var version: Int
    var subject: SharedSubject
    /// The one receiver it is for (a transfer's), or nil for every receiver its kind's agreements name.
    var onlyFor: SourceSystemID? = nil
    /// Receivers owed what this entity supersedes: they get it whatever their filter says.
    var followers: Set<SourceSystemID> = []
}

extension Hub {
    /// The channel `NOTIFY` wakes pushers on; the payload is the target.
    public static let outboxChannel = "liandong_outbox"

    /// The same for every attempt at one entity version to one target, so that the receiver can
    /// recognise a repeat: the first 32 hex digits of sha256(target | kind | id | version).
    static func idempotencyKey(target: String, kind: String, id: UUID, version: Int) -> String {
        String(sha256Hex(Array("\(target)|\(kind)|\(id.lowercasedText)|\(version)".utf8)).prefix(32))
    }
}
