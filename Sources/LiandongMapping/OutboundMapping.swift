import Foundation
import LiandongModel

/// How a canonical entity becomes a receiver's native document: `Mappings/<system>/outbound/<kind>.yaml`.
/// The reverse of a mapping: each native field names the canonical field it comes `from`, with an
/// optional code label, reverse crosswalk or time format. A canonical field that is absent (not
/// granted, or never known) leaves its native field out.
///
/// ```yaml
/// version: 1
/// target: police-110
/// entity: incident
/// document: {format: json}                      # or {format: xml, root: SJXX, encoding: gbk}
/// fields:
///   事件编号: {from: $id}                         # $id, $version, $kind: the hub's own
///   事件类别: {from: category, label: event-category}
///   报警类别: {from: police_category, code: {list: police-category, crosswalk: police-110}}
///   发生时间: {from: reported_at, time: {pattern: "yyyy-MM-dd HH:mm:ss"}}
///   位置.经度: {from: location.lon}
/// ```
public struct OutboundMapping: Sendable {
    /// `police-110/outbound/incident`.
    public var name: String
    public var spec: OutboundSpec
    let codeLists: [String: CodeList]

    /// A rendered document.
    public struct Rendered: Sendable, Equatable {
        public var body: [UInt8]
        public var contentType: String
    }

    /// The hub's own facts about the entity, which `$id`, `$version` and `$kind` name.
    public struct Envelope: Sendable {
        public var id: String
        public var version: Int
        public var kind: EntityKind

        public init(id: String, version: Int, kind: EntityKind) {
            self.id = id
            self.version = version
            self.kind = kind
        }
    }

    /// The native document for `fields` (already granted and masked).
    public func render(_ fields: [String: FieldValue], envelope: Envelope) -> Rendered {
        if spec.document.profile == .cap {
            return Rendered(body: CAPWriter.document(fields), contentType: "application/xml; charset=UTF-8")
        }
        var document = FieldValue.object([:])
        for (native, field) in spec.fields.sorted(by: { $0.key < $1.key }) {
            guard let value = value(of: field, in: fields, envelope: envelope) else { continue }
            document = document.merging(Self.nest(value, at: native.split(separator: ".").map(String.init)))
        }
        switch spec.document.format {
        case .json, .csv, .jsonLines:  // the spec refuses all but json and xml
            return Rendered(body: Array(document.canonicalJSON.utf8), contentType: "application/json; charset=utf-8")
        case .xml:
            let label = spec.document.encoding == .gb18030 ? "GBK" : "UTF-8"
            var xml = "<?xml version=\"1.0\" encoding=\"\(label)\"?>\n"
            Self.writeXML(document, named: spec.document.root ?? "Document", into: &xml)
            let bytes = xml.data(using: spec.document.encoding.foundationEncoding).map(Array.init) ?? Array(xml.utf8)
            return Rendered(body: bytes, contentType: "application/xml; charset=\(label)")
        }
    }

    private func value(of field: OutboundSpec.FieldSpec, in fields: [String: FieldValue], envelope: Envelope) -> FieldValue? {
        let raw: FieldValue?
        switch field.from {
        case "$id": raw = .string(envelope.id)
        case "$version": raw = .number(Double(envelope.version))
        case "$kind": raw = .string(envelope.kind.rawValue)
        default: raw = FieldValue.object(fields).value(at: field.from.split(separator: ".").map(String.init))
        }
        guard let raw, raw != .null else { return nil }
        switch field.transform {
        case nil:
            return raw
        case .label(let list):
            return raw.scalarText.flatMap { codeLists[list]?.codes[$0] }.map(FieldValue.string) ?? raw
        case .code(let list, let crosswalk):
            // The first native code (in sorted order) the crosswalk maps to this canonical code.
            let table = codeLists[list]?.crosswalks[crosswalk] ?? [:]
            let native = table.filter { $0.value == raw.scalarText }.keys.sorted().first
            return native.map(FieldValue.string) ?? raw
        case .time(let format):
            return raw.scalarText.flatMap(Date.init(canonicalText:)).map { .string(format.format($0)) } ?? raw
        }
    }

    static func nest(_ value: FieldValue, at path: [String]) -> FieldValue {
        path.reversed().reduce(value) { inner, key in .object([key: inner]) }
    }

    static func writeXML(_ value: FieldValue, named name: String, into xml: inout String) {
        switch value {
        case .object(let object):
            xml += "<\(name)>"
            for (key, inner) in object.sorted(by: { $0.key < $1.key }) { writeXML(inner, named: key, into: &xml) }
            xml += "</\(name)>"
        case .array(let items):
            for item in items { writeXML(item, named: name, into: &xml) }
        case .null:
            xml += "<\(name)/>"
        default:
            xml += "<\(name)>\((value.scalarText ?? "").xmlEscaped)</\(name)>"
        }
    }
}

/// `Mappings/<system>/outbound/<kind>.yaml` as written.
public struct OutboundSpec: Sendable, Decodable {
    public var version: Int
    public var target: String
    public var entity: String
    public var document: DocumentSpec
    /// Native field path → where its value comes from; none for a profile, which knows its fields.
    public var fields: [String: FieldSpec]

    enum CodingKeys: String, CodingKey, CaseIterable { case version, target, entity, document, fields }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        target = try c.decode(String.self, forKey: .target)
        entity = try c.decode(String.self, forKey: .entity)
        document = try c.decode(DocumentSpec.self, forKey: .document)
        fields = try c.decodeIfPresent([String: FieldSpec].self, forKey: .fields) ?? [:]
        if document.profile == .cap, entity != EntityKind.warning.rawValue || !fields.isEmpty {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [CodingKeys.document],
                    debugDescription: "profile cap writes warnings as CAP 1.2 itself: use it for entity warning, with no 'fields'"))
        }
        if document.profile == nil, fields.isEmpty {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath + [CodingKeys.fields], debugDescription: "name the native fields and where each comes from"))
        }
    }

    /// A standard document the hub writes itself from the canonical fields.
    public enum Profile: String, Sendable, Decodable {
        /// OASIS CAP 1.2 (`CAPWriter`), for warnings.
        case cap
    }

    /// The document written: JSON, or XML under `root` in `encoding`, or a standard `profile`.
    public struct DocumentSpec: Sendable, Decodable {
        public var format: DocumentParser.Format
        public var root: String?
        public var encoding: TextDecoding.Charset
        public var profile: Profile?

        enum CodingKeys: String, CodingKey, CaseIterable { case format, root, encoding, profile }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            format = try c.decode(DocumentParser.Format.self, forKey: .format)
            guard format == .json || format == .xml else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + [CodingKeys.format], debugDescription: "outbound documents are json or xml"))
            }
            root = try c.decodeIfPresent(String.self, forKey: .root)
            let label = try c.decodeIfPresent(String.self, forKey: .encoding) ?? "utf-8"
            guard let charset = TextDecoding.Charset(label: label) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + [CodingKeys.encoding], debugDescription: "'\(label)': use utf-8 or gbk (GB18030)"))
            }
            encoding = charset
            profile = try c.decodeIfPresent(Profile.self, forKey: .profile)
            if profile == .cap, format != .xml || encoding != .utf8 {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + [CodingKeys.profile], debugDescription: "CAP 1.2 is written as xml in utf-8"))
            }
        }
    }

    /// One native field: the canonical path it comes from and at most one transform.
    public struct FieldSpec: Sendable, Decodable {
        public var from: String
        public var transform: Transform?

        /// What is done to the canonical value on its way out.
        public enum Transform: Sendable {
            /// The code's label in the list (`accident` → `事故灾难`).
            case label(list: String)
            /// The receiver's own code, through the list's crosswalk read backwards.
            case code(list: String, crosswalk: String)
            /// A time written by a pattern in a zone.
            case time(TimeParser)
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case from, label, code, time }

        private struct CodeArgs: Decodable {
            var list: String
            var crosswalk: String
        }
        private struct TimeArgs: Decodable {
            var pattern: String?
            var zone: String?
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            from = try c.decode(String.self, forKey: .from)
            let given = [CodingKeys.label, .code, .time].filter(c.contains)
            guard given.count <= 1 else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + given, debugDescription: "one of label, code or time, not several"))
            }
            if let list = try c.decodeIfPresent(String.self, forKey: .label) {
                transform = .label(list: list)
            } else if let args = try c.decodeIfPresent(CodeArgs.self, forKey: .code) {
                transform = .code(list: args.list, crosswalk: args.crosswalk)
            } else if let args = try c.decodeIfPresent(TimeArgs.self, forKey: .time) {
                let zoneName = args.zone ?? "Asia/Shanghai"
                guard let zone = TimeZone(identifier: zoneName) else {
                    throw DecodingError.dataCorrupted(
                        .init(codingPath: decoder.codingPath + [CodingKeys.time], debugDescription: "unknown zone '\(zoneName)'"))
                }
                transform = .time(TimeParser(pattern: args.pattern ?? "iso8601", zone: zone))
            } else {
                transform = nil
            }
        }
    }
}
