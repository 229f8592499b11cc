import Foundation

/// Which matters belong on another platform (`Mappings/policies/routing.yaml`): the 12345 ↔ 110
/// split. A record a rule matches is transferred: the hub carries it to the other platform as a
/// transfer record of its own, with deadlines for acceptance and feedback.
public struct RoutingPolicy: Sendable, Equatable {
    public var rules: [RoutingRule]

    public init(rules: [RoutingRule]) { self.rules = rules }

    /// No routing: nothing is transferred.
    public static let none = RoutingPolicy(rules: [])

    /// The first rule that sends a `kind` record from `source` with these fields elsewhere, if any.
    public func rule(for kind: EntityKind, from source: SourceSystemID, fields: [String: FieldValue]) -> RoutingRule? {
        rules.first { $0.kind == kind && $0.from == source && $0.matches(fields) }
    }

    /// The kinds some rule looks at.
    public var kinds: Set<EntityKind> { Set(rules.map(\.kind)) }
}

/// One line of the matter list: records of `kind` from `from` whose fields match `when` go to `to`.
public struct RoutingRule: Sendable, Equatable {
    /// The rule's name, recorded on each transfer it makes.
    public var name: String
    public var from: SourceSystemID
    public var kind: EntityKind
    public var to: SourceSystemID
    /// Canonical field → the values that make a record this rule's matter; a record matches when any
    /// field listed has one of its values (`incident_type: [crime, noise]`, `category: [non_police]`).
    public var when: [String: Set<String>]
    /// Prefixes of `division_code` the record must also have (`["53"]`: Yunnan's matters only, which
    /// go to 110 through the exchange database); nil: anywhere.
    public var divisions: [String]?
    /// Why, in the words the receiving platform reads (`警情类诉求`).
    public var reason: String
    /// `online` (在线转办) or `one_key` (一键转接).
    public var mode: String
    /// How long the receiver has to accept, and to send back its result.
    public var acceptWithin: TimeInterval
    public var feedbackWithin: TimeInterval

    public init(
        name: String, from: SourceSystemID, kind: EntityKind, to: SourceSystemID, when: [String: Set<String>], divisions: [String]? = nil,
        reason: String, mode: String, acceptWithin: TimeInterval, feedbackWithin: TimeInterval
    ) {
        self.name = name
        self.from = from
        self.kind = kind
        self.to = to
        self.when = when
        self.divisions = divisions
        self.reason = reason
        self.mode = mode
        self.acceptWithin = acceptWithin
        self.feedbackWithin = feedbackWithin
    }

    /// Whether a record with these fields is this rule's matter (and in its divisions, if it names any).
    public func matches(_ fields: [String: FieldValue]) -> Bool {
        let inDivisions = divisions.map { prefixes in
            fields["division_code"]?.scalarText.map { code in prefixes.contains { code.hasPrefix($0) } } ?? false
        } ?? true
        return inDivisions && when.contains { field, values in fields[field]?.scalarText.map(values.contains) ?? false }
    }
}
