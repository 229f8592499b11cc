import Foundation

/// Who may receive what: the data-sharing agreements (数据共享协议) of `Mappings/policies/sharing.yaml`,
/// one per receiving system. Deny by default: a receiver gets only the entity kinds and fields its
/// agreement grants, masked where it says so.
///
/// ```swift
/// switch policy.decide(subject, for: "police-110", at: now) {
/// case .share(let fields, let agreement): // enqueue `fields`, recording `agreement.version`
/// case .expired(_, let agreement):         // hold back: the agreement ran out
/// case .notEntitled:                       // nothing leaves the hub
/// }
/// ```
public struct SharingPolicy: Sendable, Equatable {
    /// Agreements by receiving system.
    public var agreements: [SourceSystemID: SharingAgreement]

    public init(agreements: [SourceSystemID: SharingAgreement]) {
        self.agreements = agreements
    }

    /// No agreements: nothing is shared.
    public static let none = SharingPolicy(agreements: [:])

    /// The receivers whose agreement names `kind`, in name order.
    public func receivers(of kind: EntityKind) -> [SharingAgreement] {
        agreements.values.filter { $0.grants[kind] != nil }.sorted { $0.receiver.rawValue < $1.receiver.rawValue }
    }

    /// What `receiver` may get of `subject` at `now`. A receiver that got what `subject` supersedes
    /// (`followsEarlier`: a warning's update or cancel) gets it whatever the filter says, so that no
    /// receiver is left holding a warning that was changed or called off.
    public func decide(
        _ subject: SharedSubject, for receiver: SourceSystemID, at now: Date, followsEarlier: Bool = false
    ) -> SharingDecision {
        guard let agreement = agreements[receiver], let grant = agreement.grants[subject.kind] else { return .notEntitled }
        // A receiver is never sent back what only it reported.
        guard !subject.sources.isEmpty, subject.sources != [receiver] else { return .notEntitled }
        guard followsEarlier || grant.filter.admits(subject.fields, from: subject.sources, receiver: receiver) else { return .notEntitled }
        let fields = grant.project(subject.fields)
        return now < agreement.expires ? .share(fields, agreement) : .expired(fields, agreement)
    }
}

/// An entity as the sharing rules see it: its kind, current fields, and the systems it came from.
public struct SharedSubject: Sendable {
    public var kind: EntityKind
    public var fields: [String: FieldValue]
    /// The systems whose records make it up (for an incident, those of its reports).
    public var sources: Set<SourceSystemID>

    public init(kind: EntityKind, fields: [String: FieldValue], sources: Set<SourceSystemID>) {
        self.kind = kind
        self.fields = fields
        self.sources = sources
    }
}

/// The outcome of applying an agreement to one entity.
public enum SharingDecision: Sendable, Equatable {
    /// Deliver these fields (granted and masked), under this agreement.
    case share([String: FieldValue], SharingAgreement)
    /// The receiver would get these fields, but its agreement has expired: deliveries stop until it
    /// is renewed.
    case expired([String: FieldValue], SharingAgreement)
    /// The receiver has no right to this entity.
    case notEntitled
}

/// The agreement with one receiving system.
public struct SharingAgreement: Sendable, Equatable {
    public var receiver: SourceSystemID
    /// Raised on every change to the agreement; each delivery records the version it went out under.
    public var version: Int
    /// Deliveries stop at this instant.
    public var expires: Date
    /// What is granted, per entity kind.
    public var grants: [EntityKind: SharingGrant]
    /// Who at the receiver is called (叫应) when a warning of these colours reaches it; nil: nobody.
    public var callout: Callout?
    /// Whether each delivery waits for an operator's approval before it goes (`approval: required`):
    /// a receiver that must never act on the hub's word alone, such as the emergency broadcast platform.
    public var approvalRequired: Bool

    public init(
        receiver: SourceSystemID, version: Int, expires: Date, grants: [EntityKind: SharingGrant], callout: Callout? = nil,
        approvalRequired: Bool = false
    ) {
        self.receiver = receiver
        self.version = version
        self.expires = expires
        self.grants = grants
        self.callout = callout
        self.approvalRequired = approvalRequired
    }

    /// The call-out (叫应) a receiver owes for severe warnings: each responsible person must
    /// acknowledge each warning of these colours delivered to it.
    public struct Callout: Sendable, Equatable {
        /// Warning colours that are called (`red`, `orange`).
        public var colours: Set<String>
        /// The responsible people, as the receiver's acknowledgements name them (`值班指挥长`).
        public var people: [String]
        /// Records of the receiver's own of this kind (`hazard_point`) whose `monitor` is called when the
        /// warning's area (`WarningArea`) covers their `location` or `division_code`: the 群测群防
        /// monitors of the hazard points a geological warning covers.
        public var monitors: EntityKind?

        public init(colours: Set<String>, people: [String], monitors: EntityKind? = nil) {
            self.colours = colours
            self.people = people
            self.monitors = monitors
        }
    }

    /// What an admin reads on a delivery held back because the agreement has expired: which
    /// agreement, since when, and how to go on.
    public var expiryMessage: String {
        "the sharing agreement with \(receiver) (version \(version)) expired at \(expires.canonicalText): renew 'expires' "
            + "under agreements.\(receiver) in Mappings/policies/sharing.yaml, then run 'liandong deliveries retry --expired'"
    }
}

/// One entity kind granted to a receiver: which entities (the filter), which fields, and masks.
public struct SharingGrant: Sendable, Equatable {
    /// Granted field paths: `address` grants the whole field, `location.lat` only that part of an
    /// object (or of each object in a list).
    public var fields: [String]
    /// Masks by field path; a path masked must also be granted.
    public var masks: [String: Masking]
    public var filter: SharingFilter

    public init(fields: [String], masks: [String: Masking] = [:], filter: SharingFilter = SharingFilter()) {
        self.fields = fields
        self.masks = masks
        self.filter = filter
    }

    /// Only the granted paths of `fields`, masked. A masked value whose shape the mask does not know
    /// is withheld rather than sent in clear.
    public func project(_ fields: [String: FieldValue]) -> [String: FieldValue] {
        var granted: [String: FieldValue] = [:]
        for path in self.fields {
            // Most paths are a whole field: taken as it is, it holds whatever part of it was taken before.
            guard path.utf8.contains(UInt8(ascii: ".")) else {
                if let value = fields[path] { granted[path] = value }
                continue
            }
            let parts = path.split(separator: ".").map(String.init)
            guard let part = fields[parts[0]]?.copy(parts.dropFirst()) else { continue }
            granted[parts[0]] = granted[parts[0]].map { $0.merging(part) } ?? part
        }
        var out = FieldValue.object(granted)
        for (path, mask) in masks {
            out = out.transforming(path.split(separator: ".").map(String.init)) { value in
                guard case .string(let text) = value else { return nil }
                return mask.apply(text).map(FieldValue.string)
            }
        }
        return out.objectValue ?? [:]
    }
}

/// Which entities of a kind a receiver gets. Every condition set must hold; an empty filter admits all.
public struct SharingFilter: Sendable, Equatable {
    /// Event categories (`natural_disaster`, …) the entity's `category` must be one of.
    public var categories: Set<String>?
    /// The least severe grade admitted: 1 (Ⅰ 特别重大) … 4 (Ⅳ 一般); an entity's `grade` must be at or
    /// above it (a number at most this).
    public var gradeAtLeast: Int?
    /// Whether an entity with no grade yet passes a grade condition (the bureau grades incidents
    /// after hearing of them, so its own agreement says yes).
    public var ungraded: Bool
    /// Warning colours (`red`, `orange`, …) the entity's `colour` must be one of.
    public var colours: Set<String>?
    /// Division code prefixes (`3301` = Hangzhou) the entity's `division_code` must start with.
    public var divisions: [String]?
    /// Whether the entity's `addressees` (an instruction's) must name the receiver.
    public var addressed: Bool
    /// Systems one of which the entity must come from (`[natural-resources]`: geological warnings,
    /// not the weather office's).
    public var sources: Set<SourceSystemID>?

    public init(
        categories: Set<String>? = nil, gradeAtLeast: Int? = nil, ungraded: Bool = false, colours: Set<String>? = nil,
        divisions: [String]? = nil, addressed: Bool = false, sources: Set<SourceSystemID>? = nil
    ) {
        self.categories = categories
        self.gradeAtLeast = gradeAtLeast
        self.ungraded = ungraded
        self.colours = colours
        self.divisions = divisions
        self.addressed = addressed
        self.sources = sources
    }

    /// Whether an entity with these fields, from these systems, passes on its way to `receiver`.
    public func admits(_ fields: [String: FieldValue], from origin: Set<SourceSystemID> = [], receiver: SourceSystemID) -> Bool {
        if let sources, sources.isDisjoint(with: origin) { return false }
        if addressed, !(fields["addressees"]?.arrayValue ?? []).contains(.string(receiver.rawValue)) { return false }
        if let categories, !categories.contains(fields["category"]?.stringValue ?? "") { return false }
        if let colours, !colours.contains(fields["colour"]?.stringValue ?? "") { return false }
        if let divisions {
            let code = fields["division_code"]?.stringValue ?? ""
            if !divisions.contains(where: { code.hasPrefix($0) }) { return false }
        }
        if let gradeAtLeast {
            if let grade = Self.gradeNumber(fields["grade"]) {
                if grade > gradeAtLeast { return false }
            } else if !ungraded {
                return false
            }
        }
        return true
    }

    /// A grade as 1…4, from `1`, `"1"`, `"I"`…`"IV"` or `"Ⅰ"`…`"Ⅳ"`.
    static func gradeNumber(_ value: FieldValue?) -> Int? {
        switch value {
        case .number(let number): return (1...4).contains(Int(number)) ? Int(number) : nil
        case .string(let text): return ["1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4, "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4][text]
        default: return nil
        }
    }
}

extension FieldValue {
    /// The part at a dotted path (through objects, and from every element of a list), or nil.
    public func value(at path: some Collection<String>) -> FieldValue? {
        guard let head = path.first else { return self }
        switch self {
        case .object(let object): return object[head]?.value(at: path.dropFirst())
        case .array(let items):
            let values = items.compactMap { $0.value(at: path) }
            return values.isEmpty ? nil : .array(values)
        default: return nil
        }
    }

    /// The value with only the part at `path` kept (through objects, and into every element of a list);
    /// nil when nothing is there.
    func copy(_ path: some Collection<String>) -> FieldValue? {
        guard let head = path.first else { return self }
        switch self {
        case .object(let object):
            return object[head]?.copy(path.dropFirst()).map { .object([head: $0]) }
        case .array(let items):
            return .array(items.map { $0.copy(path) ?? .object([:]) })
        default:
            return nil
        }
    }

    /// The union of two partial copies of one value (objects merged member by member).
    public func merging(_ other: FieldValue) -> FieldValue {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            return .object(a.merging(b) { $0.merging($1) })
        case (.array(let a), .array(let b)) where a.count == b.count:
            return .array(zip(a, b).map { $0.merging($1) })
        default:
            return other
        }
    }

    /// The value with `change` applied at `path` (into every element of a list); a nil result
    /// removes the part.
    func transforming(_ path: some Collection<String>, _ change: (FieldValue) -> FieldValue?) -> FieldValue {
        guard let head = path.first else { return change(self) ?? .null }
        switch self {
        case .object(var object):
            guard let inner = object[head] else { return self }
            if path.count == 1 {
                object[head] = change(inner)
            } else {
                object[head] = inner.transforming(path.dropFirst(), change)
            }
            return .object(object)
        case .array(let items):
            return .array(items.map { $0.transforming(path, change) })
        default:
            return self
        }
    }
}
