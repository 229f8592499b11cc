import Foundation

/// A record after mapping: what the hub stores as one entity version.
public struct CanonicalRecord: Hashable, Sendable {
    /// The system the record came from.
    public var source: SourceSystemID
    /// The entity kind it maps to.
    public var kind: EntityKind
    /// The source system's own identifier for the record.
    public var externalID: String
    /// When the source says the record was last changed (never the ingest time).
    public var sourceTime: Date
    /// Canonical fields by name.
    public var fields: [String: FieldValue]
    /// Links to other records named by this one (CAP `references`, transfer numbers).
    public var links: [Link]
    /// The mapping that produced this record.
    public var mapping: MappingRef

    public init(
        source: SourceSystemID, kind: EntityKind, externalID: String, sourceTime: Date,
        fields: [String: FieldValue], links: [Link] = [], mapping: MappingRef
    ) {
        self.source = source
        self.kind = kind
        self.externalID = externalID
        self.sourceTime = sourceTime
        self.fields = fields
        self.links = links
        self.mapping = mapping
    }

    /// A reference from this record to another record of some system.
    public struct Link: Hashable, Sendable {
        /// What the link means (`supersedes`).
        public var type: String
        /// The system of the record linked to.
        public var targetSource: SourceSystemID
        /// That record's external id.
        public var targetExternalID: String

        public init(type: String, targetSource: SourceSystemID, targetExternalID: String) {
            self.type = type
            self.targetSource = targetSource
            self.targetExternalID = targetExternalID
        }
    }

    /// The canonical JSON of the fields: the bytes the content hash is computed from.
    public var canonicalFieldsJSON: String { FieldValue.object(fields).canonicalJSON }
}

/// A mapping's name and version, recorded with everything it produces.
public struct MappingRef: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `system/record`, the mapping file's path below `Mappings/` without extension.
    public var name: String
    /// The version the mapping file declares.
    public var version: Int

    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }

    public var description: String { "\(name)@v\(version)" }
}
