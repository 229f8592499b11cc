import Foundation
import LiandongModel

/// A mapping ready to run: its spec plus the code lists and division list it refers to.
public struct Mapping: Sendable {
    /// `system/record`, the file's path below `Mappings/` without extension.
    public var name: String
    public var spec: MappingSpec {
        didSet { fieldNames = spec.fields.keys.sorted() }
    }
    /// The names of `spec.fields` in order, sorted once rather than for every record.
    private var fieldNames: [String]
    public var codeLists: [String: CodeList]
    public var divisions: DivisionList?
    /// The schema of `spec.document.schema`, read.
    public var schema: XMLSchema?

    /// Name and version, recorded with every result.
    public var ref: MappingRef { MappingRef(name: name, version: spec.version) }
    public var source: SourceSystemID { SourceSystemID(spec.source) }
    public var kind: EntityKind { EntityKind(rawValue: spec.entity) }

    public init(name: String, spec: MappingSpec, codeLists: [String: CodeList], divisions: DivisionList?, schema: XMLSchema? = nil) {
        self.name = name
        self.spec = spec
        self.fieldNames = spec.fields.keys.sorted()
        self.codeLists = codeLists
        self.divisions = divisions
        self.schema = schema
    }

    /// What one received document maps to.
    public struct Result: Sendable {
        /// The charset the bytes were decoded with.
        public var charset: TextDecoding.Charset?
        /// The label the transport or document declared.
        public var declaredEncoding: String?
        /// The document itself failed (encoding, DTD, parse, namespace): nothing inside was mapped.
        public var documentFailure: MappingFailure?
        /// One outcome per record, in document order.
        public var records: [RecordOutcome]
    }

    /// The outcome for one record of a document.
    public enum RecordOutcome: Sendable {
        case mapped(CanonicalRecord)
        /// The record did not map; `externalID` is set when the id itself could be read.
        case failed(index: Int, externalID: String?, failures: [MappingFailure])
    }

    /// Decodes, parses and maps one received document; with a `clock`, the time spent decoding and
    /// parsing goes to its `decode` stage and the records' mapping to `map`.
    public func map(_ bytes: [UInt8], declaredEncoding: String? = nil, clock: StageClock? = nil) -> Result {
        let started = ContinuousClock.now
        let decoded: TextDecoding.Decoded
        do {
            decoded = try TextDecoding.decode(bytes, declared: declaredEncoding, fallback: spec.document.encoding)
        } catch {
            return Result(
                charset: nil, declaredEncoding: declaredEncoding,
                documentFailure: MappingFailure(path: "/", rule: .encoding, message: error.description), records: [])
        }
        var result = Result(charset: decoded.charset, declaredEncoding: decoded.declared, documentFailure: nil, records: [])
        let parser = DocumentParser(maxBytes: spec.document.maxBytes, maxDepth: spec.document.maxDepth)
        let root: DocumentNode
        do {
            root = try parser.parse(decoded.text, as: spec.document.format)
        } catch {
            result.documentFailure = error
            return result
        }
        if let expected = spec.document.namespace {
            let found = root.children.first?.namespace
            guard found == expected else {
                result.documentFailure = MappingFailure(
                    path: "/" + (root.children.first?.name ?? ""), rule: .namespace, value: found ?? "(none)",
                    message: "root element must be in namespace \(expected)")
                return result
            }
        }
        // What the schema does not allow is never dropped silently: the document is quarantined, or
        // each of its records lists it.
        var violations: [String] = []
        if let schema, let rule = spec.document.schema {
            violations = schema.violations(in: decoded.text).map(\.description)
            if !violations.isEmpty, rule.violations == .quarantine {
                result.documentFailure = MappingFailure(
                    path: "/", rule: .schema, message: "not valid against \(rule.file): " + violations.prefix(5).joined(separator: "; "))
                return result
            }
        }
        clock?.add(.decode, since: started)
        let mapping = ContinuousClock.now
        defer { clock?.add(.map, since: mapping) }
        let nodes = root.select(spec.document.records)
        // CSV has no container to tell by: a header with no rows is an empty page.
        if nodes.isEmpty, spec.document.format != .csv, !Self.isEmptyPage(root, records: spec.document.records) {
            result.documentFailure = MappingFailure(
                path: spec.document.records, rule: .required, message: "document holds no record at this path")
        }
        result.records = nodes.enumerated().map { index, node in
            let outcome = mapRecord(node, index: index)
            guard !violations.isEmpty, case .mapped(var record) = outcome else { return outcome }
            record.fields["schema_violations"] = .array(violations.map(FieldValue.string))
            return .mapped(record)
        }
        return result
    }

    /// Whether a document with no record at `records` is an empty page (`{"data": {"items": []}}`,
    /// `<JQLB/>`) rather than the wrong document: the container one level up is there. A path of one
    /// segment (`alert`) has no container to tell by, so a document without it is a failure.
    static func isEmptyPage(_ root: DocumentNode, records: String) -> Bool {
        let segments = DocumentNode.segments(of: records)
        return segments.count > 1 && !root.select(segments.dropLast()).isEmpty
    }

    /// Maps one record node.
    public func mapRecord(_ node: DocumentNode, index: Int) -> RecordOutcome {
        var failures: [MappingFailure] = []
        let parts = ([spec.id] + spec.idParts).map { part in
            var required = part
            required.required = true
            return evaluate(required, at: node, path: required.path ?? "", failures: &failures)?.scalarText
        }
        let id = parts.contains(nil) ? parts[0] : parts.compactMap { $0 }.joined(separator: "/")
        var timeSpec = spec.sourceTime
        timeSpec.required = true
        let timeValue = evaluate(timeSpec, at: node, path: timeSpec.path ?? "", failures: &failures)
        var fields: [String: FieldValue] = [:]
        for name in fieldNames {
            let field = spec.fields[name]!
            if let value = evaluate(field, at: node, path: field.path ?? name, failures: &failures) {
                fields[name] = value
                noteSuccessor(of: value, field: field, name: name, in: &fields)
            }
        }
        var links: [CanonicalRecord.Link] = []
        for link in spec.links {
            for (n, target) in node.select(link.path).enumerated() {
                guard let text = target.text else { continue }
                let path = "\(link.path)[\(n)]"
                guard let value = apply(link.transforms, to: .string(text), path: path, failures: &failures) else { continue }
                let ids: [FieldValue] = if case .array(let items) = value { items } else { [value] }
                for case .string(let targetID) in ids where !targetID.isEmpty {
                    links.append(
                        CanonicalRecord.Link(
                            type: link.type, targetSource: SourceSystemID(link.target ?? spec.source),
                            targetExternalID: targetID))
                }
            }
        }
        guard failures.isEmpty, let id, case .string(let timeText) = timeValue,
            let sourceTime = Self.canonicalTime.parse(timeText)
        else {
            return .failed(index: index, externalID: id, failures: failures)
        }
        fields = fields.mapValues(Self.normalized)
        return .mapped(
            CanonicalRecord(
                source: source, kind: kind, externalID: id, sourceTime: sourceTime, fields: fields, links: links,
                mapping: ref))
    }

    /// Parses the source time the `time` transform has made canonical.
    private static let canonicalTime = TimeParser(pattern: "iso8601", zone: TimeZone(secondsFromGMT: 0)!)

    /// Text in canonical records is Unicode NFC, so the same words always hash alike.
    private static func normalized(_ value: FieldValue) -> FieldValue {
        switch value {
        case .string(let s): return .string(s.nfc())
        case .array(let a): return .array(a.map(normalized))
        case .object(let o): return .object(o.mapValues(normalized))
        default: return value
        }
    }

    private func evaluate(_ field: MappingSpec.FieldSpec, at node: DocumentNode, path: String, failures: inout [MappingFailure])
        -> FieldValue?
    {
        var raw: FieldValue?
        var where_ = path
        if field.each == nil, let subfields = field.fields {
            // A nested object read from the same record node.
            var object: [String: FieldValue] = [:]
            for name in subfields.keys.sorted() {
                let sub = subfields[name]!
                if let v = evaluate(sub, at: node, path: sub.path ?? name, failures: &failures) {
                    object[name] = v
                    noteSuccessor(of: v, field: sub, name: name, in: &object)
                }
            }
            raw = object.isEmpty ? nil : .object(object)
        } else if let each = field.each, let subfields = field.fields {
            where_ = each
            let items = node.select(each).map { item -> FieldValue in
                var object: [String: FieldValue] = [:]
                for name in subfields.keys.sorted() {
                    let sub = subfields[name]!
                    if let v = evaluate(sub, at: item, path: "\(each).\(sub.path ?? name)", failures: &failures) {
                        object[name] = v
                        noteSuccessor(of: v, field: sub, name: name, in: &object)
                    }
                }
                return .object(object)
            }
            raw = items.isEmpty ? nil : .array(items)
        } else if let latPath = field.lat, let lonPath = field.lon {
            where_ = "\(latPath),\(lonPath)"
            let lat = node.first(latPath)?.text.flatMap(Self.nonEmpty)
            let lon = node.first(lonPath)?.text.flatMap(Self.nonEmpty)
            if let lat, let lon { raw = .object(["lat": .string(lat), "lon": .string(lon)]) }
        } else if let p = field.path {
            if field.many {
                let texts = node.select(p).compactMap { $0.text.flatMap(Self.nonEmpty) }
                raw = texts.isEmpty ? nil : .array(texts.map(FieldValue.string))
            } else if let first = node.first(p) {
                raw = first.children.isEmpty ? first.text.flatMap(Self.nonEmpty).map(FieldValue.string) : first.value
            }
        }
        guard let raw else {
            if let value = field.defaultValue { return value }
            if field.required {
                failures.append(MappingFailure(path: where_, rule: .required, message: "required value is missing"))
            }
            return nil
        }
        return apply(field.transforms, to: raw, path: where_, failures: &failures)
    }

    /// When `field`'s `division` transform accepted an abolished code, notes the current code that took
    /// its place beside it as `<name>_successor`: the field itself keeps the code the source sent, and
    /// nothing is noted when no successor is known.
    private func noteSuccessor(
        of value: FieldValue, field: MappingSpec.FieldSpec, name: String, in object: inout [String: FieldValue]
    ) {
        guard field.transforms.contains(where: \.isDivision), case .string(let code) = value, let divisions,
            let successor = divisions.successor(of: code)
        else { return }
        object[name + Self.successorSuffix] = .string(successor)
    }

    /// The suffix of the field that notes an abolished division's successor (`division_code_successor`).
    static let successorSuffix = "_successor"

    private static func nonEmpty(_ s: String) -> String? {
        s.allSatisfy(\.isWhitespace) ? nil : s
    }

    /// Applies transforms in order; arrays are transformed element by element (except by `split`).
    func apply(_ transforms: [TransformSpec], to value: FieldValue, path: String, failures: inout [MappingFailure])
        -> FieldValue?
    {
        var current = value
        for transform in transforms {
            if case .array(let items) = current, !transform.isWholeValue {
                var out: [FieldValue] = []
                for item in items {
                    guard let v = apply([transform], to: item, path: path, failures: &failures) else { return nil }
                    if case .array(let nested) = v { out += nested } else { out.append(v) }
                }
                current = .array(out)
                continue
            }
            do {
                current = try TransformRunner(mapping: self).run(transform, on: current)
            } catch {
                failures.append(MappingFailure(path: path, rule: error.rule, value: current.displayText, message: error.message))
                return nil
            }
        }
        return current
    }
}

extension TransformSpec {
    /// Transforms that take the whole value even when it is an array.
    var isWholeValue: Bool {
        if case .coordinates = self { return true }
        return false
    }

    /// The `division` transform, whose abolished codes get their successor noted.
    var isDivision: Bool {
        if case .division = self { return true }
        return false
    }
}

extension FieldValue {
    /// A short text of the value for failure reports.
    var displayText: String {
        let text = readableText
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
