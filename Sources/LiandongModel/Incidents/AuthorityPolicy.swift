import Foundation

/// Which source decides each incident field (`Mappings/policies/authority.yaml`): per field the ordered
/// authoritative sources, and per incident category where that differs.
public struct AuthorityPolicy: Sendable, Hashable {
    /// The rule of each incident field.
    public var fields: [String: FieldRule]
    /// Incident category → field → the rule that replaces the general one for that category.
    public var categories: [String: [String: FieldRule]]
    /// The version the policy file declares; recorded with every incident decision.
    public var version: Int

    public init(fields: [String: FieldRule], categories: [String: [String: FieldRule]] = [:], version: Int = 1) {
        self.fields = fields
        self.categories = categories
        self.version = version
    }

    /// The rule for `field` in an incident of `category`.
    public func rule(for field: String, category: String?) -> FieldRule? {
        if let category, let special = categories[category]?[field] { return special }
        return fields[field]
    }

    /// The field that decides which category overrides apply; it is decided first.
    public static let categoryField = "category"

    /// The fields of a report of `kind` that the incident fields `names` (and the category, which
    /// picks their rules) are decided from, under the general rules and every category's.
    public func reportFields(deciding names: Set<String>, kind: EntityKind) -> Set<String> {
        var result: Set<String> = []
        for name in names.union([Self.categoryField]) {
            for rule in [fields[name]] + categories.values.map({ $0[name] }) {
                if let rule { result.insert(rule.reportField(name, kind: kind)) }
            }
        }
        return result
    }
}

/// How one incident field is decided among the reports' values.
public struct FieldRule: Sendable, Hashable {
    /// How the winner is chosen.
    public enum Decision: String, Sendable, Hashable, Codable {
        /// The best-ranked source; among equals the newest source time.
        case authority
        /// The earliest value (times as canonical text): when the incident was first reported.
        case earliest
    }

    /// Ordered ranks of authoritative sources; sources in one rank have equal authority. A source not
    /// named ranks after all of them.
    public var ranks: [[SourceSystemID]]
    /// Per report kind, the report field that supplies this incident field (default: the same name).
    public var from: [EntityKind: String]
    /// Whether disagreeing values among the best-ranked sources open a conflict for a person.
    public var review: Bool
    /// For status fields: the lifecycle order. The value only moves forward unless a ranked source
    /// sends an earlier stage later (a reopen).
    public var lifecycle: [String]?
    public var decision: Decision

    public init(
        ranks: [[SourceSystemID]] = [], from: [EntityKind: String] = [:], review: Bool = false, lifecycle: [String]? = nil,
        decision: Decision = .authority
    ) {
        self.ranks = ranks
        self.from = from
        self.review = review
        self.lifecycle = lifecycle
        self.decision = decision
    }

    /// The rank of `source`: its position in `ranks`, or after all of them.
    public func rank(of source: SourceSystemID) -> Int {
        ranks.firstIndex(where: { $0.contains(source) }) ?? ranks.count
    }

    /// The report field that supplies this incident field in a report of `kind`.
    public func reportField(_ field: String, kind: EntityKind) -> String { from[kind] ?? field }
}
