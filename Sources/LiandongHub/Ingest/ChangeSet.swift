import Foundation
import LiandongModel

/// What one transaction changed, in the order it changed it: the audit draft of every change and,
/// among them, the entities each left at a new version. The steps that change things produce one
/// (the ingest plan, the incident resolver, an admin's decision, a replay); `recordChanges` chains its
/// drafts into the audit log and owes its new versions to receivers, so what is delivered follows
/// from what was changed, not from audit entries read back.
struct ChangeSet: ExpressibleByArrayLiteral {
    private(set) var drafts: [AuditDraft] = []
    /// The entities left at a new version, each once, in order of change.
    private(set) var newVersions: [(kind: EntityKind, id: UUID)] = []
    private var versioned = Set<UUID>()
    /// Begun after the locked audit head: the drafts are chained (numbered and hashed) as they come,
    /// while PostgreSQL works on the statements sent before them.
    private var chain: (entries: [AuditEntry], tail: (seq: Int64, hash: [UInt8]), at: Date)?

    init() {}

    /// A change set whose drafts are chained after `head` as they are added.
    init(after head: (seq: Int64, hash: [UInt8]), at: Date = Date()) {
        chain = ([], head, at)
    }

    /// Changes that leave no entity at a new version: links, alternates, candidates, decisions, failures.
    init(arrayLiteral drafts: AuditDraft...) {
        self.drafts = drafts
    }

    /// A change that leaves `id` at a new version: a record inserted or updated, an incident created
    /// or recomputed to different fields.
    mutating func append(_ draft: AuditDraft, newVersionOf kind: EntityKind, id: UUID) {
        add([draft])
        if versioned.insert(id).inserted { newVersions.append((kind, id)) }
    }

    /// A change that leaves no entity at a new version.
    mutating func append(_ draft: AuditDraft) {
        add([draft])
    }

    mutating func append(contentsOf other: ChangeSet) {
        add(other.drafts)
        for (kind, id) in other.newVersions where versioned.insert(id).inserted { newVersions.append((kind, id)) }
    }

    private mutating func add(_ new: [AuditDraft]) {
        drafts += new
        guard var chain, !new.isEmpty else { return }
        let entries = AuditChain.chain(new, after: chain.tail, at: chain.at)
        chain.entries += entries
        chain.tail = (entries[entries.count - 1].seq, entries[entries.count - 1].hash)
        self.chain = chain
    }

    /// Writes the drafts' bodies but for their numbers and times, on every core, before the chain head
    /// is known: while PostgreSQL runs the statements sent before, rather than under the head.
    mutating func prepareBodies() {
        precondition(chain == nil, "bodies are prepared before the set is chained")
        let bodies = drafts.concurrentMap(AuditChain.UnnumberedBody.init)
        for (index, body) in bodies.enumerated() { drafts[index].prepared = body }
    }

    /// The audit entries of every draft, numbered and chained after `head` (already done as they
    /// came, when the set was begun after it).
    func entries(after head: (seq: Int64, hash: [UInt8])) -> [AuditEntry] {
        chain?.entries ?? AuditChain.chain(drafts, after: head, at: Date())
    }

    /// Names who decided and why on the drafts whose action is in `decisions` (an admin decision
    /// among the changes it caused). Only before the set is chained.
    mutating func sign(by actor: ActingUser, decisions: Set<AuditAction>) {
        precondition(chain == nil, "a change set is signed before it is chained")
        drafts = drafts.map { decisions.contains($0.action) ? $0.signed(by: actor) : $0 }
    }

    static func += (changes: inout ChangeSet, other: ChangeSet) { changes.append(contentsOf: other) }
    static func += (changes: inout ChangeSet, drafts: [AuditDraft]) { changes.add(drafts) }
    static func + (changes: ChangeSet, drafts: [AuditDraft]) -> ChangeSet {
        var all = changes
        all += drafts
        return all
    }

    /// The new versions by kind (in kind order), as their consequences read them.
    var changedEntities: ChangedEntities {
        let byKind = Dictionary(grouping: newVersions, by: \.kind).mapValues { $0.map(\.id) }
        return ChangedEntities(byKind: byKind.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key, $0.value) })
    }
}
