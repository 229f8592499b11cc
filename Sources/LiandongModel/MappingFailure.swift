/// Why one record (or a whole document) did not map: kept with the raw payload in quarantine.
public struct MappingFailure: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The path in the source document (`JJSJ`, `info.area.geocode.value`, `/` for the whole document).
    public var path: String
    /// The rule that failed.
    public var rule: Rule
    /// The offending value as received, if there was one.
    public var value: String?
    /// What is wrong and what would fix it.
    public var message: String

    public init(path: String, rule: Rule, value: String? = nil, message: String) {
        self.path = path
        self.rule = rule
        self.value = value
        self.message = message
    }

    /// The rule names a failure can carry; stable strings, used for grouping.
    public struct Rule: Hashable, Sendable, Codable, RawRepresentable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(rawValue)
        }
        public var description: String { rawValue }

        public static let required = Rule(rawValue: "required")
        public static let time = Rule(rawValue: "time")
        public static let code = Rule(rawValue: "code")
        public static let coordinates = Rule(rawValue: "coordinates")
        public static let division = Rule(rawValue: "division")
        public static let number = Rule(rawValue: "number")
        public static let mask = Rule(rawValue: "mask")
        /// The document could not be parsed at all (malformed JSON/XML/CSV, too large, too deep).
        public static let document = Rule(rawValue: "document")
        /// A DTD or entity declaration: refused before parsing.
        public static let doctype = Rule(rawValue: "doctype")
        /// The bytes are not valid in the declared or detected encoding.
        public static let encoding = Rule(rawValue: "encoding")
        /// The document is of another standard or version than the mapping expects (CAP 1.1).
        public static let namespace = Rule(rawValue: "namespace")
        /// The document is not valid against the schema its mapping names (CAP 1.2), and the mapping
        /// quarantines such documents.
        public static let schema = Rule(rawValue: "schema")
        /// A value outside the enumeration the mapping allows.
        public static let allowed = Rule(rawValue: "allowed")
        /// A value that does not match the pattern the mapping requires.
        public static let pattern = Rule(rawValue: "pattern")
    }

    public var description: String {
        "\(path): \(rule) — \(message)" + (value.map { " (value: \($0))" } ?? "")
    }
}
