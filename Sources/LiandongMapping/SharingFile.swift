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
///   broadcast:
///     approval: required           # every delivery waits for an operator's approval
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
                    (
                        SourceSystemID(name),
                        SharingAgreement(
                            receiver: SourceSystemID(name), version: spec.version, expires: spec.expires, grants: spec.grants,
                            callout: spec.callout, approvalRequired: spec.approvalRequired)
                    )
                }))
    }

    struct AgreementSpec: Decodable {
        var version: Int
        var expires: Date
        var grants: [EntityKind: SharingGrant]
        var callout: SharingAgreement.Callout?
        var approvalRequired: Bool

        enum CodingKeys: String, CodingKey, CaseIterable { case version, expires, kinds, callout, approval }

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
            let known = decoder.recordKinds.deliverable
            for kind in kinds.keys where !known.map(\.rawValue).contains(kind) {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.kinds],
                        debugDescription: "'\(kind)' is not an entity kind; expected one of: \(known.map(\.rawValue).joined(separator: ", "))"))
            }
            grants = Dictionary(uniqueKeysWithValues: kinds.map { (EntityKind(rawValue: $0), $1.grant) })
            callout = try c.decodeIfPresent(CalloutSpec.self, forKey: .callout)?.callout
            if callout != nil, grants[.warning] == nil {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.callout],
                        debugDescription: "a call-out needs warnings: grant kinds.warning to this receiver, or remove the call-out"))
            }
            let approval = try c.decodeIfPresent(String.self, forKey: .approval) ?? "none"
            guard ["required", "none"].contains(approval) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.approval],
                        debugDescription: "'\(approval)' is not an approval; expected 'required' (an operator approves each delivery) or 'none'"))
            }
            approvalRequired = approval == "required"
        }

        /// A date alone is its first instant in China; otherwise a time with its offset.
        static func instant(_ text: String) -> Date? {
            if text.count == 10, let day = Date(canonicalText: text + "T00:00:00+08:00") { return day }
            return Date(canonicalText: text)
        }
    }

    /// `callout: {colours: [red, orange], people: [值班指挥长, 作战训练科值班员]}`, or with
    /// `monitors: hazard_point` the monitors of the receiver's hazard points the warning covers.
    struct CalloutSpec: Decodable {
        var callout: SharingAgreement.Callout

        enum CodingKeys: String, CodingKey, CaseIterable { case colours, people, monitors }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let people = try c.decodeIfPresent([String].self, forKey: .people) ?? []
            let monitors = try c.decodeIfPresent(String.self, forKey: .monitors)
            if let monitors, !decoder.recordKinds.all.map(\.rawValue).contains(monitors) {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.monitors],
                        debugDescription: "'\(monitors)' is not a mapped kind; expected one of: \(decoder.recordKinds.all.map(\.rawValue).joined(separator: ", "))"))
            }
            guard !people.isEmpty || monitors != nil else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.people],
                        debugDescription: "name at least one responsible person, or the kind whose monitors are called (monitors: hazard_point)"))
            }
            callout = SharingAgreement.Callout(
                colours: Set(try c.decodeIfPresent([String].self, forKey: .colours) ?? ["red", "orange"]), people: people,
                monitors: monitors.map(EntityKind.init(rawValue:)))
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
            case categories, gradeAtLeast = "grade_at_least", ungraded, colours, divisions, addressed, sources
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
                divisions: try c.decodeIfPresent([String].self, forKey: .divisions),
                addressed: try c.decodeIfPresent(Bool.self, forKey: .addressed) ?? false,
                sources: try c.decodeIfPresent([String].self, forKey: .sources).map { names in Set(names.map { SourceSystemID($0) }) })
        }
    }
}

/// `Mappings/policies/routing.yaml` as written. See `docs/sharing.md`.
///
/// ```yaml
/// rules:
///   - name: police-matters
///     from: hotline-12345
///     kind: work_order
///     to: police-110
///     when: {incident_type: [crime, public_order, noise]}
///     reason: 警情类诉求
///     mode: online
///     accept_within: 30m
///     feedback_within: 24h
/// ```
struct RoutingFile: Decodable {
    var policy: RoutingPolicy

    enum CodingKeys: String, CodingKey, CaseIterable { case rules }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policy = RoutingPolicy(rules: try c.decode([RuleSpec].self, forKey: .rules).map(\.rule))
    }

    struct RuleSpec: Decodable {
        var rule: RoutingRule

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, from, kind, to, when, divisions, reason, mode, acceptWithin = "accept_within", feedbackWithin = "feedback_within"
        }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let kind = try c.decode(String.self, forKey: .kind)
            guard decoder.recordKinds.all.map(\.rawValue).contains(kind) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.kind],
                        debugDescription: "'\(kind)' is not a mapped kind; expected one of: \(decoder.recordKinds.all.map(\.rawValue).joined(separator: ", "))"))
            }
            let mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? "online"
            guard ["online", "one_key"].contains(mode) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + [CodingKeys.mode], debugDescription: "'\(mode)': expected online or one_key"))
            }
            let when = try c.decode([String: [String]].self, forKey: .when)
            guard !when.isEmpty else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + [CodingKeys.when], debugDescription: "name at least one field and its values"))
            }
            rule = RoutingRule(
                name: try c.decode(String.self, forKey: .name), from: SourceSystemID(try c.decode(String.self, forKey: .from)),
                kind: EntityKind(rawValue: kind), to: SourceSystemID(try c.decode(String.self, forKey: .to)),
                when: when.mapValues(Set.init), divisions: try c.decodeIfPresent([String].self, forKey: .divisions),
                reason: try c.decode(String.self, forKey: .reason), mode: mode,
                acceptWithin: try c.decode(PolicyDuration.self, forKey: .acceptWithin).seconds,
                feedbackWithin: try c.decode(PolicyDuration.self, forKey: .feedbackWithin).seconds)
        }
    }
}
