import LiandongModel

/// A mapping file as written in YAML (`Mappings/<system>/<record>.yaml`). See `docs/mapping-language.md`.
public struct MappingSpec: Sendable, Decodable {
    /// The mapping's own version; recorded with every record and failure it produces.
    public var version: Int
    /// The source system the records come from.
    public var source: String
    /// The entity kind the records map to.
    public var entity: String
    /// How to read the document.
    public var document: DocumentSpec
    /// Path (relative to a record) of the source's identifier for the record.
    public var id: FieldSpec
    /// When a record is identified by several columns (`id: [STCD, BGMD]`), the paths after the
    /// first; the id is their texts joined by `/` (`62300300/0701`).
    public var idParts: [FieldSpec]
    /// Path of the time the source last changed the record, with its `time` transform.
    public var sourceTime: FieldSpec
    /// Canonical fields by name.
    public var fields: [String: FieldSpec]
    /// References to other records.
    public var links: [LinkSpec]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, source, entity, document, id, sourceTime = "source_time", fields, links
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        source = try c.decode(String.self, forKey: .source)
        entity = try c.decode(String.self, forKey: .entity)
        document = try c.decode(DocumentSpec.self, forKey: .document)
        if let parts = try? c.decode([FieldSpec].self, forKey: .id), let first = parts.first {
            id = first
            idParts = Array(parts.dropFirst())
        } else {
            id = try c.decode(FieldSpec.self, forKey: .id)
            idParts = []
        }
        sourceTime = try c.decode(FieldSpec.self, forKey: .sourceTime)
        fields = try c.decodeIfPresent([String: FieldSpec].self, forKey: .fields) ?? [:]
        links = try c.decodeIfPresent([LinkSpec].self, forKey: .links) ?? []
    }

    /// How the document is read.
    public struct DocumentSpec: Sendable, Decodable {
        public var format: DocumentParser.Format
        /// The charset when neither the transport nor the document declares one.
        public var encoding: TextDecoding.Charset
        /// XML: the namespace the root element must have (CAP 1.2's, say).
        public var namespace: String?
        /// Path from the document root to each record.
        public var records: String
        public var maxBytes: Int
        public var maxDepth: Int

        /// XML: the schema every document is validated against, and what a violation does.
        public var schema: SchemaSpec?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case format, encoding, namespace, records, maxBytes = "max_bytes", maxDepth = "max_depth", schema
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            format = try c.decode(DocumentParser.Format.self, forKey: .format)
            encoding = try c.decodeIfPresent(TextDecoding.Charset.self, forKey: .encoding) ?? .utf8
            namespace = try c.decodeIfPresent(String.self, forKey: .namespace)
            records = try c.decode(String.self, forKey: .records)
            maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes) ?? 16 << 20
            maxDepth = try c.decodeIfPresent(Int.self, forKey: .maxDepth) ?? 64
            schema = try c.decodeIfPresent(SchemaSpec.self, forKey: .schema)
            if schema != nil, format != .xml {
                throw DecodingError.dataCorruptedError(forKey: .schema, in: c, debugDescription: "a schema validates XML documents: format is \(format)")
            }
        }
    }

    /// `schema: {file: schemas/CAP-v1.2.xsd, violations: warn}`: an XML Schema below `Mappings/`.
    /// `warn` keeps the records and lists what the schema does not allow in each record's
    /// `schema_violations`; `quarantine` quarantines the document (rule `schema`).
    public struct SchemaSpec: Sendable, Decodable {
        public enum Violations: String, Sendable, Decodable { case warn, quarantine }
        public var file: String
        public var violations: Violations

        enum CodingKeys: String, CodingKey, CaseIterable { case file, violations }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            file = try c.decode(String.self, forKey: .file)
            violations = try c.decodeIfPresent(Violations.self, forKey: .violations) ?? .warn
        }
    }

    /// One canonical field: where its value is and what is done to it.
    public struct FieldSpec: Sendable, Decodable {
        /// Path relative to the record (or to the `each` node).
        public var path: String?
        /// For coordinates: the paths of latitude and longitude.
        public var lat: String?
        public var lon: String?
        /// Repeat over the nodes at this path, building an array of objects from `fields`.
        public var each: String?
        /// Sub-fields: an object built from the record (or from each `each` node).
        public var fields: [String: FieldSpec]?
        /// Take every node the path selects as an array, not only the first.
        public var many: Bool
        /// A record without this field is a failure.
        public var required: Bool
        /// The value when the source has none.
        public var defaultValue: FieldValue?
        public var transforms: [TransformSpec]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case path, lat, lon, each, fields, many, required, defaultValue = "default", transforms
        }

        public init(from decoder: any Decoder) throws {
            if let path = try? decoder.singleValueContainer().decode(String.self) {
                self.path = path
                many = false
                required = false
                transforms = []
                return
            }
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decodeIfPresent(String.self, forKey: .path)
            lat = try c.decodeIfPresent(String.self, forKey: .lat)
            lon = try c.decodeIfPresent(String.self, forKey: .lon)
            each = try c.decodeIfPresent(String.self, forKey: .each)
            fields = try c.decodeIfPresent([String: FieldSpec].self, forKey: .fields)
            many = try c.decodeIfPresent(Bool.self, forKey: .many) ?? false
            required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
            defaultValue = try c.decodeIfPresent(FieldValue.self, forKey: .defaultValue)
            transforms = try c.decodeIfPresent([TransformSpec].self, forKey: .transforms) ?? []
            let sources = [path != nil, lat != nil || lon != nil, fields != nil].filter { $0 }.count
            guard sources == 1 || (sources == 0 && defaultValue != nil) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "give exactly one of path, lat/lon or fields (with each)"))
            }
            guard each == nil || fields != nil else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "each needs fields to build each item"))
            }
        }
    }

    /// A reference from the record to records of some system (CAP `references`).
    public struct LinkSpec: Sendable, Decodable {
        /// What the link means (`supersedes`).
        public var type: String
        /// The system whose records are referenced; the mapping's own source when absent.
        public var target: String?
        /// Path of the reference values; each yields one link after the transforms.
        public var path: String
        public var transforms: [TransformSpec]

        enum CodingKeys: String, CodingKey, CaseIterable { case type, target, path, transforms }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decode(String.self, forKey: .type)
            target = try c.decodeIfPresent(String.self, forKey: .target)
            path = try c.decode(String.self, forKey: .path)
            transforms = try c.decodeIfPresent([TransformSpec].self, forKey: .transforms) ?? []
        }
    }
}

/// One step applied to a field's value. Written in YAML as a bare name (`trim`) or a one-key map
/// (`time: {pattern: "yyyy-MM-dd HH:mm:ss"}`).
public enum TransformSpec: Sendable, Decodable {
    /// Trim white space and normalise to Unicode NFC.
    case trim
    /// Parse a number.
    case number
    /// Parse a time with a pattern (or ISO 8601) in a zone (Asia/Shanghai when the source gives none).
    case time(pattern: String, zone: String)
    /// Look up a code list, through a crosswalk when given; `otherwise` is the code for values the
    /// list does not know (without it, they fail with rule `code`).
    case code(list: String, crosswalk: String?, otherwise: String? = nil)
    /// Convert coordinates from `crs` to WGS-84, keeping the original.
    case coordinates(crs: CoordinateSystem)
    /// Validate a GB/T 2260 division code against the kept list and its changes table; a field
    /// holding an abolished code gets its successor in `<field>_successor`.
    case division
    /// Mask personal data.
    case mask(Masking)
    /// Split text into an array.
    case split(separator: String)
    /// Take one part of text split by a separator.
    case part(separator: String, index: Int)
    /// Refuse values outside a list.
    case allowed([String])
    /// Refuse values that do not match a regular expression (whole value).
    case pattern(String)

    private struct TimeArgs: Decodable {
        var pattern: String?
        var zone: String?
    }
    private struct CodeArgs: Decodable {
        var list: String
        var crosswalk: String?
        var otherwise: String?
    }
    private struct CoordinateArgs: Decodable { var crs: CoordinateSystem }
    private struct PartArgs: Decodable {
        var separator: String
        var index: Int
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            switch name {
            case "trim": self = .trim
            case "number": self = .number
            case "division": self = .division
            case "time": self = .time(pattern: "iso8601", zone: "Asia/Shanghai")
            default:
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription:
                            "unknown transform '\(name)'; expected trim, number, division, time or a one-key map (time, code, coordinates, mask, split, part, allowed, pattern)"
                    ))
            }
            return
        }
        let c = try decoder.container(keyedBy: Key.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "a transform is a name or a map with one key"))
        }
        switch key.stringValue {
        case "time":
            let args = try c.decode(TimeArgs.self, forKey: key)
            self = .time(pattern: args.pattern ?? "iso8601", zone: args.zone ?? "Asia/Shanghai")
        case "code":
            let args = try c.decode(CodeArgs.self, forKey: key)
            self = .code(list: args.list, crosswalk: args.crosswalk, otherwise: args.otherwise)
        case "coordinates": self = .coordinates(crs: try c.decode(CoordinateArgs.self, forKey: key).crs)
        case "mask": self = .mask(try c.decode(Masking.self, forKey: key))
        case "split": self = .split(separator: try c.decode(String.self, forKey: key))
        case "part":
            let args = try c.decode(PartArgs.self, forKey: key)
            self = .part(separator: args.separator, index: args.index)
        case "allowed": self = .allowed(try c.decode([String].self, forKey: key))
        case "pattern": self = .pattern(try c.decode(String.self, forKey: key))
        default:
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [key],
                    debugDescription:
                        "unknown transform '\(key.stringValue)'; expected time, code, coordinates, mask, split, part, allowed or pattern"
                ))
        }
    }
}

/// Refuses keys a YAML map may not have, so that a typo names itself instead of being ignored: a
/// type's `init(from:)` calls `check` with its coding keys before decoding them.
public enum StrictKeys {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public static func check(_ decoder: any Decoder, allowed: [String]) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        for key in c.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [key],
                    debugDescription: "unknown key '\(key.stringValue)'; expected one of: \(allowed.joined(separator: ", "))"
                ))
        }
    }
}
