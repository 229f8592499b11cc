import Foundation
import LiandongModel

extension CodingUserInfoKey {
    /// The record kinds a policy file's checks know, beside the built-in ones.
    static let recordKinds = CodingUserInfoKey(rawValue: "liandong.recordKinds")!
}

extension Decoder {
    /// The record kinds known while decoding (the built-in ones unless the catalog says more).
    var recordKinds: RecordKinds { userInfo[.recordKinds] as? RecordKinds ?? .builtIn }
}

/// `Mappings/kinds/<kind>.yaml`: a record kind declared as data.
///
/// ```yaml
/// kind: water_level
/// fields:
///   station_code: {type: text, indexed: true}
///   level_m: {type: number, indexed: true}
///   observed_at: {type: time}
/// reports: [reported_at, location, division_code]   # only for reports of incidents
/// ```
struct KindFile: Decodable {
    var declaration: KindDeclaration

    /// The columns every kind's table has; a field may not take their names.
    static let sharedColumns: Set<String> = [
        "id", "source_system", "external_id", "version", "source_time", "content_hash", "data", "mapping", "mapping_version",
        "raw_payload_id", "created_at", "updated_at",
    ]

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, description, fields, reports }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(String.self, forKey: .kind)
        func invalid(_ key: CodingKeys, _ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: decoder.codingPath + [key], debugDescription: message))
        }
        // Short enough that `<kind>_<field>` names an index within PostgreSQL's 63 bytes.
        guard kind.range(of: "^[a-z][a-z0-9_]{1,29}$", options: .regularExpression) != nil else {
            throw invalid(.kind, "'\(kind)' is not a kind name: lower case letters, digits and '_', like water_level")
        }
        guard !RecordKinds.builtIn.deliverable.map(\.rawValue).contains(kind) else {
            throw invalid(.kind, "'\(kind)' is a built-in kind already")
        }
        let fields = try c.decodeIfPresent([String: FieldFile].self, forKey: .fields) ?? [:]
        for name in fields.keys.sorted() {
            guard name.range(of: "^[a-z][a-z0-9_]{0,29}$", options: .regularExpression) != nil, !Self.sharedColumns.contains(name) else {
                throw invalid(
                    .fields,
                    "'\(name)' cannot name a field: up to 30 lower case letters, digits and '_', none of \(Self.sharedColumns.sorted().joined(separator: ", "))")
            }
        }
        let reports = try c.decodeIfPresent([String].self, forKey: .reports) ?? []
        for field in reports where !KindDeclaration.reportFields.contains(field) {
            throw invalid(.reports, "'\(field)' is not a field incidents are matched through; expected some of: \(KindDeclaration.reportFields.joined(separator: ", "))")
        }
        if !reports.isEmpty, !reports.contains("reported_at") {
            throw invalid(.reports, "a report needs reported_at: identity looks for its neighbours in time")
        }
        declaration = KindDeclaration(
            kind: EntityKind(rawValue: kind),
            fields: fields.sorted { $0.key < $1.key }.map { KindDeclaration.Field(name: $0.key, type: $0.value.type, indexed: $0.value.indexed) },
            reports: reports)
    }

    struct FieldFile: Decodable {
        var type: KindDeclaration.FieldType
        var indexed: Bool

        enum CodingKeys: String, CodingKey, CaseIterable { case type, indexed, description }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let name = try c.decode(String.self, forKey: .type)
            guard let type = KindDeclaration.FieldType(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .type, in: c,
                    debugDescription: "'\(name)' is not a field type; expected one of: \(KindDeclaration.FieldType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.type = type
            indexed = try c.decodeIfPresent(Bool.self, forKey: .indexed) ?? false
        }
    }
}

extension MappingCatalog {
    /// The kinds declared in `Mappings/kinds/`, each file named after its kind.
    static func loadKinds(_ directory: URL) throws(LoadError) -> RecordKinds {
        let folder = directory.appendingPathComponent("kinds")
        var declared: [KindDeclaration] = []
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() where file.hasSuffix(".yaml") {
            let url = folder.appendingPathComponent(file)
            let written: KindFile = try decode(url)
            guard written.declaration.kind.rawValue == String(file.dropLast(5)) else {
                throw LoadError(file: url.path, key: "kind", message: "'\(written.declaration.kind)': name the file after the kind it declares")
            }
            declared.append(written.declaration)
        }
        return RecordKinds(declared: declared)
    }
}
