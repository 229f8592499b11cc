import Foundation
import LiandongModel

/// `Mappings/policies/sharing.yaml` as written. See `docs/sharing.md`.
///
/// ```yaml
/// agreements:
///   police-110:
///     version: 3
///     expires: 2027-06-30          # a date is midnight at its start, Asia/Shanghai
///     kinds:
///       incident:
///         filter: {categories: [accident, social_security], grade_at_least: 4, ungraded: true, divisions: ["33"]}
///         fields: [incident_no, category, address, location.lat, location.lon, casualties]
///         mask: {caller_phone: phone}
/// ```
struct SharingFile: Decodable {
    var policy: SharingPolicy

    enum CodingKeys: String, CodingKey, CaseIterable { case agreements }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let specs = try c.decode([String: AgreementSpec].self, forKey: .agreements)
        policy = SharingPolicy(
            agreements: Dictionary(
                uniqueKeysWithValues: specs.map { name, spec in
                    (SourceSystemID(name), SharingAgreement(receiver: SourceSystemID(name), version: spec.version, expires: spec.expires, grants: spec.grants))
                }))
    }

    struct AgreementSpec: Decodable {
        var version: Int
        var expires: Date
        var grants: [EntityKind: SharingGrant]

        enum CodingKeys: String, CodingKey, CaseIterable { case version, expires, kinds }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            version = try c.decode(Int.self, forKey: .version)
            let expiresText = try c.decode(String.self, forKey: .expires)
            guard let expires = Self.instant(expiresText) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.expires],
                        debugDescription: "'\(expiresText)' is not a date (2027-06-30) or a time with its zone (2027-06-30T18:00:00+08:00)"))
            }
            self.expires = expires
            let kinds = try c.decode([String: GrantSpec].self, forKey: .kinds)
            let known = EntityKind.all + [.incident]
            for kind in kinds.keys where !known.map(\.rawValue).contains(kind) {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.kinds],
                        debugDescription: "'\(kind)' is not an entity kind; expected one of: \(known.map(\.rawValue).joined(separator: ", "))"))
            }
            grants = Dictionary(uniqueKeysWithValues: kinds.map { (EntityKind(rawValue: $0), $1.grant) })
        }

        /// A date alone is its first instant in China; otherwise a time with its offset.
        static func instant(_ text: String) -> Date? {
            if text.count == 10, let day = Date(canonicalText: text + "T00:00:00+08:00") { return day }
            return Date(canonicalText: text)
        }
    }

    struct GrantSpec: Decodable {
        var grant: SharingGrant

        enum CodingKeys: String, CodingKey, CaseIterable { case fields, mask, filter }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let fields = try c.decode([String].self, forKey: .fields)
            let masks = try c.decodeIfPresent([String: Masking].self, forKey: .mask) ?? [:]
            for path in masks.keys.sorted() where !fields.contains(where: { path == $0 || path.hasPrefix($0 + ".") }) {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.mask],
                        debugDescription: "'\(path)' is masked but not granted: add it to 'fields' or remove the mask"))
            }
            grant = SharingGrant(
                fields: fields, masks: masks, filter: try c.decodeIfPresent(FilterSpec.self, forKey: .filter)?.filter ?? SharingFilter())
        }
    }

    struct FilterSpec: Decodable {
        var filter: SharingFilter

        enum CodingKeys: String, CodingKey, CaseIterable {
            case categories, gradeAtLeast = "grade_at_least", ungraded, colours, divisions
        }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let grade = try c.decodeIfPresent(Int.self, forKey: .gradeAtLeast)
            if let grade, !(1...4).contains(grade) {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.gradeAtLeast],
                        debugDescription: "a grade is 1 (Ⅰ 特别重大) to 4 (Ⅳ 一般); \(grade) is neither"))
            }
            filter = SharingFilter(
                categories: try c.decodeIfPresent([String].self, forKey: .categories).map(Set.init), gradeAtLeast: grade,
                ungraded: try c.decodeIfPresent(Bool.self, forKey: .ungraded) ?? false,
                colours: try c.decodeIfPresent([String].self, forKey: .colours).map(Set.init),
                divisions: try c.decodeIfPresent([String].self, forKey: .divisions))
        }
    }
}
