import Foundation
import LiandongModel
import Yams

/// Every mapping, code list and division list below a `Mappings/` folder, loaded once.
public struct MappingCatalog: Sendable {
    /// Mappings by name (`fire-119/alarm`).
    public var mappings: [String: Mapping]
    public var codeLists: [String: CodeList]
    /// The GB/T 2260 list of `codes/divisions-*.tsv`, with the abolished codes of its changes table.
    public var divisions: DivisionList?
    /// The rules of `policies/`: authority and matching (`authority.yaml`, `matching.yaml`), the
    /// data-sharing agreements (`sharing.yaml`) and the 12345 ↔ 110 matter list (`routing.yaml`);
    /// each is none without its file.
    public var policies: HubPolicies
    /// Outbound mappings by name (`police-110/outbound/incident`).
    public var outbound: [String: OutboundMapping]

    /// A file in `Mappings/` that could not be used, in the PostgresNIO style: a `code`, and the file,
    /// the key and what is expected as its context.
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        /// What kind of failure this is.
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            public var description: String
            /// The file or folder is missing, unreadable, or not YAML (or TSV) at all.
            public static let unreadable = Code(description: "unreadable")
            /// A key or value is wrong, or names what does not exist (a code list, a division, a field).
            public static let invalid = Code(description: "invalid")
            /// A mapping asked for by name that is not there.
            public static let notFound = Code(description: "notFound")
        }

        public var code: Code
        public var file: String
        public var key: String
        public var message: String

        public init(_ code: Code = .invalid, file: String, key: String, message: String) {
            self.code = code
            self.file = file
            self.key = key
            self.message = message
        }

        public var description: String { "\(file): \(key.isEmpty ? "" : "key '\(key)': ")\(message)" }
    }

    /// Loads `directory` (the project's `Mappings/`).
    public init(directory: URL) throws(LoadError) {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw LoadError(
                .unreadable, file: directory.path, key: "",
                message: "no such folder: mappings are read from the project's Mappings/; run liandong from the project "
                    + "folder, or name the folder with 'mappings:' in the configuration file")
        }
        let codes = directory.appendingPathComponent("codes")
        var lists: [String: CodeList] = [:]
        var divisions: DivisionList?
        var changes: (url: URL, abolished: [String: DivisionList.Abolished])?
        let codeFiles = (try? fm.contentsOfDirectory(atPath: codes.path))?.sorted() ?? []
        for file in codeFiles {
            let url = codes.appendingPathComponent(file)
            if file.hasSuffix(".yaml") {
                let spec: CodeListSpec = try Self.decode(url)
                let name = String(file.dropLast(5))
                lists[name] = CodeList(name: name, codes: spec.codes, crosswalks: spec.crosswalks ?? [:])
            } else if file.hasPrefix("divisions"), file.hasSuffix("-changes.tsv") {
                do {
                    let text = try String(contentsOf: url, encoding: .utf8)
                    let abolished = try DivisionList.abolishedCodes(fromChanges: text)
                    changes = (url, abolished)
                } catch {
                    throw LoadError(
                        file: url.path, key: "",
                        message: "not a table of 'Code Name Successor …' rows after a header: \(error)")
                }
            } else if file.hasPrefix("divisions"), file.hasSuffix(".tsv") {
                do {
                    divisions = try DivisionList(tsv: String(contentsOf: url, encoding: .utf8))
                } catch {
                    throw LoadError(.unreadable, file: url.path, key: "", message: "not a 'Source Revision Code Name' list: \(error)")
                }
            }
        }
        if let changes {
            try Self.checkChanges(changes.abolished, file: changes.url.path, divisions: divisions)
            divisions?.abolished = changes.abolished
        }
        var mappings: [String: Mapping] = [:]
        var outbound: [String: OutboundMapping] = [:]
        let systems = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        let kinds = try Self.loadKinds(directory)
        var schemas: [String: XMLSchema] = [:]
        for system in systems where !["codes", "policies", "kinds", "schemas"].contains(system) {
            let folder = directory.appendingPathComponent(system)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for file in ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() where file.hasSuffix(".yaml") {
                let url = folder.appendingPathComponent(file)
                let spec: MappingSpec = try Self.decodeExtending(url, in: directory)
                let name = "\(system)/\(file.dropLast(5))"
                try Self.checkReferences(spec, file: url.path, codeLists: lists, divisions: divisions)
                guard kinds.all.map(\.rawValue).contains(spec.entity) else {
                    throw LoadError(
                        file: url.path, key: "entity",
                        message: "'\(spec.entity)' is not a record kind; expected one of: \(kinds.all.map(\.rawValue).joined(separator: ", ")), "
                            + "or declare it in Mappings/kinds/\(spec.entity).yaml")
                }
                var schema: XMLSchema?
                if let file = spec.document.schema?.file {
                    if schemas[file] == nil { schemas[file] = try Self.loadSchema(directory.appendingPathComponent(file), for: url) }
                    schema = schemas[file]
                }
                mappings[name] = Mapping(name: name, spec: spec, codeLists: lists, divisions: divisions, schema: schema)
            }
            let outboundFolder = folder.appendingPathComponent("outbound")
            for file in ((try? fm.contentsOfDirectory(atPath: outboundFolder.path)) ?? []).sorted() where file.hasSuffix(".yaml") {
                let url = outboundFolder.appendingPathComponent(file)
                let spec: OutboundSpec = try Self.decodeExtending(url, in: directory)
                try Self.checkOutbound(spec, system: system, kind: String(file.dropLast(5)), file: url.path, codeLists: lists, kinds: kinds)
                let name = "\(system)/outbound/\(file.dropLast(5))"
                outbound[name] = OutboundMapping(name: name, spec: spec, codeLists: lists)
            }
        }
        self.mappings = mappings
        self.outbound = outbound
        self.codeLists = lists
        self.divisions = divisions
        let sharing = try Self.loadSharing(directory, outbound: outbound, kinds: kinds)
        self.policies = HubPolicies(
            incident: try Self.loadPolicy(directory, kinds: kinds), sharing: sharing,
            routing: try Self.loadRouting(directory, sharing: sharing, kinds: kinds), kinds: kinds,
            thresholds: try Self.loadThresholds(directory, codeLists: lists, kinds: kinds))
    }

    /// The outbound mapping that writes `kind` for `target`, if there is one.
    public func outboundMapping(target: SourceSystemID, kind: EntityKind) -> OutboundMapping? {
        outbound["\(target.rawValue)/outbound/\(kind.rawValue)"]
    }

    /// The mapping called `name`, or an error listing the ones there are.
    public func mapping(named name: String) throws(LoadError) -> Mapping {
        guard let mapping = mappings[name] else {
            throw LoadError(
                .notFound, file: "Mappings/\(name).yaml", key: "",
                message: "no such mapping; there are: \(mappings.keys.sorted().joined(separator: ", "))")
        }
        return mapping
    }

    private struct CodeListSpec: Decodable {
        var codes: [String: String]
        var crosswalks: [String: [String: String]]?
    }

    /// Decodes `url`; `kinds` are the record kinds its checks know (`decoder.recordKinds`).
    static func decode<T: Decodable>(_ url: URL, kinds: RecordKinds = .builtIn) throws(LoadError) -> T {
        try decode(try node(of: url), file: url, kinds: kinds)
    }

    /// Decodes `node`, read from `file`.
    static func decode<T: Decodable>(_ node: Node, file: URL, kinds: RecordKinds = .builtIn) throws(LoadError) -> T {
        do {
            return try YAMLDecoder().decode(T.self, from: node, userInfo: [.recordKinds: kinds])
        } catch let error as DecodingError {
            throw LoadError(file: file.path, key: error.keyPath, message: error.reason)
        } catch {
            throw LoadError(.unreadable, file: file.path, key: "", message: "\(error)")
        }
    }

    /// The XML Schema at `file`, which the mapping `mapping` names.
    static func loadSchema(_ file: URL, for mapping: URL) throws(LoadError) -> XMLSchema {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw LoadError(file: mapping.path, key: "document.schema.file", message: "\(file.path) does not exist: name a schema below Mappings/")
        }
        do {
            return try XMLSchema(file: file)
        } catch {
            throw LoadError(file: mapping.path, key: "document.schema.file", message: "\(error)")
        }
    }

    /// The YAML document of `url`.
    static func node(of url: URL) throws(LoadError) -> Node {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw LoadError(.unreadable, file: url.path, key: "", message: "cannot be read: \(error.localizedDescription)")
        }
        do {
            // Scalars are resolved as YAMLDecoder resolves them (only merge keys), so that `10000` keys stay text.
            return try Yams.compose(yaml: text, Resolver.basic.appending(Resolver.Rule.merge)) ?? Node.mapping([:])
        } catch {
            throw LoadError(.unreadable, file: url.path, key: "", message: "\(error)")
        }
    }

    /// A mapping file (inbound or outbound). `extends: weather/cap-alert` takes every key of that
    /// mapping (below `directory`) and replaces those the file gives: the same document read as
    /// another system's records (`source:`), or written for another receiver (`target:`), without a
    /// copy of it.
    static func decodeExtending<T: Decodable>(_ url: URL, in directory: URL) throws(LoadError) -> T {
        let node = try node(of: url)
        guard case .mapping(let own) = node, let base = own["extends"] else { return try decode(node, file: url) }
        let baseURL = directory.appendingPathComponent((base.string ?? "") + ".yaml")
        guard base.string != nil, FileManager.default.fileExists(atPath: baseURL.path), case .mapping(var merged) = try Self.node(of: baseURL),
            merged["extends"] == nil
        else {
            throw LoadError(
                file: url.path, key: "extends",
                message: "'\(base.string ?? "")' is not a mapping of Mappings/ that extends none (name it as streams do: weather/cap-alert)")
        }
        for (key, value) in own where key.string != "extends" { merged[key] = value }
        return try decode(Node.mapping(merged), file: url)
    }

    /// A changes table goes with a list, and names none of its current codes as abolished and no
    /// successor it does not have.
    private static func checkChanges(
        _ abolished: [String: DivisionList.Abolished], file: String, divisions: DivisionList?
    ) throws(LoadError) {
        guard let divisions else {
            throw LoadError(
                file: file, key: "", message: "a changes table needs the current divisions-*.tsv list beside it")
        }
        for code in abolished.keys.sorted() {
            if divisions.names[code] != nil {
                throw LoadError(
                    file: file, key: code,
                    message: "is a current code of list \(divisions.revision): remove it from the changes")
            }
            if let successor = abolished[code]?.successor, divisions.names[successor] == nil {
                throw LoadError(
                    file: file, key: code,
                    message: "successor \(successor) is not a code of list \(divisions.revision)")
            }
        }
    }

    private static func checkReferences(
        _ spec: MappingSpec, file: String, codeLists: [String: CodeList], divisions: DivisionList?
    ) throws(LoadError) {
        func walk(_ fields: [String: MappingSpec.FieldSpec], prefix: String) throws(LoadError) {
            for (name, field) in fields {
                for transform in field.transforms {
                    if case .code(let list, let crosswalk, let otherwise) = transform {
                        guard let codeList = codeLists[list] else {
                            throw LoadError(
                                file: file, key: "fields.\(prefix)\(name).transforms",
                                message: "code list '\(list)' not found in Mappings/codes/")
                        }
                        if let otherwise, codeList.codes[otherwise] == nil {
                            throw LoadError(
                                file: file, key: "fields.\(prefix)\(name).transforms",
                                message: "'otherwise: \(otherwise)' is not a code of list '\(list)'")
                        }
                        if let crosswalk, codeList.crosswalks[crosswalk] == nil {
                            throw LoadError(
                                file: file, key: "fields.\(prefix)\(name).transforms",
                                message: "code list '\(list)' has no crosswalk '\(crosswalk)'")
                        }
                    }
                    if case .division = transform, divisions == nil {
                        throw LoadError(
                            file: file, key: "fields.\(prefix)\(name).transforms",
                            message: "no divisions-*.tsv list in Mappings/codes/")
                    }
                    if case .division = transform, fields[name + Mapping.successorSuffix] != nil {
                        throw LoadError(
                            file: file, key: "fields.\(prefix)\(name)\(Mapping.successorSuffix)",
                            message: "the division transform of '\(name)' writes this field (the successor of an "
                                + "abolished code): rename the field")
                    }
                }
                if let sub = field.fields { try walk(sub, prefix: "\(prefix)\(name).fields.") }
            }
        }
        try walk(spec.fields, prefix: "")
    }
}

extension DecodingError {
    /// The dotted key path the error is at.
    public var keyPath: String {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        case .keyNotFound(let key, let c): path = c.codingPath + [key]
        @unknown default: path = []
        }
        return path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    /// A type as the person editing a YAML file knows it.
    private static func words(for type: Any.Type) -> String {
        switch type {
        case is any BinaryInteger.Type, is any BinaryFloatingPoint.Type: "a number"
        case is String.Type: "text"
        case is Bool.Type: "true or false"
        default:
            // Yams names a YAML map `Mapping`, a list `Sequence` and a single value `Scalar`.
            switch String(describing: type) {
            case let name where name.hasSuffix("Scalar"): "a single value, not a list or map"
            case let name where name.hasPrefix("Dictionary") || name.hasSuffix("Mapping"): "a map of keys"
            case let name where name.hasPrefix("Array") || name.hasSuffix("Sequence"): "a list"
            case let name: name
            }
        }
    }

    /// What is wrong, in words for the person editing the file.
    public var reason: String {
        switch self {
        case .typeMismatch(let type, _): return "expected \(Self.words(for: type))"
        case .valueNotFound(let type, _): return "a value of type \(type) is required"
        case .keyNotFound: return "this key is required"
        case .dataCorrupted(let c): return c.debugDescription
        @unknown default: return "\(self)"
        }
    }
}
