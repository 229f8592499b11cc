/// A record kind declared in YAML (`Mappings/kinds/<kind>.yaml`) instead of built in: its fields,
/// which of them are indexed for admins' queries (each a typed column of its table), and whether its
/// records report incidents, through which canonical fields. The hub creates and evolves the kind's
/// table from the declaration and refuses a change that would lose what its columns hold.
public struct KindDeclaration: Sendable, Hashable, Codable {
    /// How an indexed field is stored.
    public enum FieldType: String, Sendable, Codable, CaseIterable {
        case text, number, time, boolean
    }

    /// One field of the kind's records.
    public struct Field: Sendable, Hashable, Codable {
        public var name: String
        public var type: FieldType
        /// Stored as a typed column with an index, for admins' queries and filters.
        public var indexed: Bool

        public init(name: String, type: FieldType, indexed: Bool) {
            self.name = name
            self.type = type
            self.indexed = indexed
        }
    }

    public var kind: EntityKind
    public var fields: [Field]
    /// The canonical fields (`reported_at`, `location`, `incident_type`…) through which its records
    /// report incidents; empty when they are not reports.
    public var reports: [String]

    public init(kind: EntityKind, fields: [Field], reports: [String]) {
        self.kind = kind
        self.fields = fields
        self.reports = reports
    }

    public var reportsIncidents: Bool { !reports.isEmpty }

    /// The canonical fields a report can be matched through; `reported_at` is required of every report.
    public static let reportFields = ["reported_at", "location", "division_code", "address", "incident_type", "event_category", "incident_status"]
}

/// Every kind of record the hub stores: the built-in ones, and those declared in YAML.
public struct RecordKinds: Sendable, Hashable {
    public var declared: [KindDeclaration]

    public init(declared: [KindDeclaration] = []) { self.declared = declared }

    /// The built-in kinds only.
    public static let builtIn = RecordKinds()

    /// Every mapped kind: each has its own table.
    public var all: [EntityKind] { EntityKind.builtIn + declared.map(\.kind) }
    /// The kinds whose records are reports of an incident and go through identity resolution.
    public var reports: [EntityKind] { EntityKind.builtInReports + declared.filter(\.reportsIncidents).map(\.kind) }
    /// Everything a sharing agreement can grant: the mapped kinds and what the hub computes.
    public var deliverable: [EntityKind] { all + EntityKind.computed }
}
