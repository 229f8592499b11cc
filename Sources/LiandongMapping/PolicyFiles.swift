import Foundation
import LiandongModel

/// `Mappings/policies/authority.yaml` as written. See `docs/incidents.md`.
struct AuthorityFile: Decodable {
    var version: Int
    var fields: [String: FieldRuleSpec]
    var categories: [String: [String: FieldRuleSpec]]

    enum CodingKeys: String, CodingKey, CaseIterable { case version, fields, categories }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        fields = try c.decode([String: FieldRuleSpec].self, forKey: .fields)
        categories = try c.decodeIfPresent([String: [String: FieldRuleSpec]].self, forKey: .categories) ?? [:]
    }

    var policy: AuthorityPolicy {
        AuthorityPolicy(
            fields: fields.mapValues(\.rule), categories: categories.mapValues { $0.mapValues(\.rule) }, version: version)
    }

    /// One field's rule: `sources` lists ranks in order; a rank is a source or a list of equal sources.
    struct FieldRuleSpec: Decodable {
        var rule: FieldRule

        enum CodingKeys: String, CodingKey, CaseIterable { case sources, from, review, lifecycle, decision }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let ranks = try c.decodeIfPresent([Rank].self, forKey: .sources) ?? []
            let from = try c.decodeIfPresent([String: String].self, forKey: .from) ?? [:]
            let reports = decoder.recordKinds.reports.map(\.rawValue)
            for kind in from.keys where !reports.contains(kind) {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.from],
                        debugDescription:
                            "'\(kind)' is not a report kind; expected one of: \(reports.joined(separator: ", "))"))
            }
            rule = FieldRule(
                ranks: ranks.map(\.sources), from: Dictionary(uniqueKeysWithValues: from.map { (EntityKind(rawValue: $0), $1) }),
                review: try c.decodeIfPresent(Bool.self, forKey: .review) ?? false,
                lifecycle: try c.decodeIfPresent([String].self, forKey: .lifecycle),
                decision: try c.decodeIfPresent(FieldRule.Decision.self, forKey: .decision) ?? .authority)
        }
    }

    struct Rank: Decodable {
        var sources: [SourceSystemID]
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let one = try? c.decode(String.self) {
                sources = [SourceSystemID(one)]
            } else {
                sources = try c.decode([String].self).map { SourceSystemID($0) }
            }
        }
    }
}

/// `Mappings/policies/matching.yaml` as written.
struct MatchingFile: Decodable {
    var policy: MatchingPolicy

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, thresholds, weights, distance, time, families, lasting, vague
        case nonEmergency = "non_emergency", sameSource = "same_source"
    }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let thresholds = try c.decode(Thresholds.self, forKey: .thresholds)
        let weights = try c.decode(Weights.self, forKey: .weights)
        let distance = try c.decode(Limits<Double>.self, forKey: .distance)
        let time = try c.decode(Limits<PolicyDuration>.self, forKey: .time)
        let lasting = try c.decodeIfPresent(Lasting.self, forKey: .lasting)
        var limits: [(path: [any CodingKey], limit: Double, askWithin: Double?)] = [
            ([CodingKeys.distance], distance.limit, distance.askWithin), ([CodingKeys.time], time.limit.seconds, time.askWithin?.seconds),
        ]
        if let lasting {
            limits.append(([CodingKeys.lasting, Lasting.CodingKeys.time], lasting.time.limit.seconds, lasting.time.askWithin?.seconds))
        }
        for (path, limit, askWithin) in limits where (askWithin ?? limit) < limit {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath + path, debugDescription: "ask_within must not be below limit"))
        }
        let families = try c.decodeIfPresent([String: [String]].self, forKey: .families) ?? [:]
        if let unknown = lasting?.families.subtracting(families.keys).sorted().first {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [CodingKeys.lasting, Lasting.CodingKeys.families],
                    debugDescription: "'\(unknown)' is no family under 'families'"))
        }
        let vague = try c.decodeIfPresent(Vague.self, forKey: .vague)
        let nonEmergency = Set(try c.decodeIfPresent([String].self, forKey: .nonEmergency) ?? [])
        var family: [String: Set<String>] = [:]
        for (name, types) in families {
            for type in types { family[type, default: []].insert(name) }
        }
        // A type is one of: in families, vague, or no emergency.
        let groups: [(CodingKeys, Set<String>)] = [
            (.families, Set(family.keys)), (.vague, vague?.types ?? []), (.nonEmergency, nonEmergency),
        ]
        for (i, (key, types)) in groups.enumerated() {
            for (otherKey, otherTypes) in groups[(i + 1)...] {
                if let type = types.intersection(otherTypes).sorted().first {
                    throw DecodingError.dataCorrupted(
                        .init(
                            codingPath: decoder.codingPath + [otherKey],
                            debugDescription: "'\(type)' is also under '\(key.rawValue)'; a type is in families, vague or non_emergency"))
                }
            }
        }
        policy = MatchingPolicy(
            autoLink: thresholds.autoLink, candidate: thresholds.candidate, margin: thresholds.margin,
            weights: .init(family: weights.family, distance: weights.distance, time: weights.time, text: weights.text),
            distanceFull: distance.fullWithin, distanceLimit: distance.limit, distanceReach: distance.askWithin,
            timeFull: time.fullWithin.seconds, timeLimit: time.limit.seconds, timeReach: time.askWithin?.seconds, families: family,
            lasting: lasting.map {
                .init(
                    families: $0.families, timeFull: $0.time.fullWithin.seconds, timeLimit: $0.time.limit.seconds,
                    timeReach: $0.time.askWithin?.seconds)
            } ?? .none,
            vague: vague.map { .init(types: $0.types, family: $0.family, distance: $0.distance, time: $0.time.seconds) } ?? .none,
            nonEmergency: nonEmergency, sameSource: try c.decodeIfPresent(Bool.self, forKey: .sameSource) ?? true,
            version: try c.decode(Int.self, forKey: .version))
    }

    /// `lasting:`: the families of events that last and their time scale.
    struct Lasting: Decodable {
        var families: Set<String>
        var time: Limits<PolicyDuration>
        enum CodingKeys: String, CodingKey, CaseIterable { case families, time }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            families = Set(try c.decode([String].self, forKey: .families))
            time = try c.decode(Limits<PolicyDuration>.self, forKey: .time)
        }
    }

    /// `vague:`: the types that need strong evidence, their family part, and the evidence.
    struct Vague: Decodable {
        var types: Set<String>
        var family: Double
        var distance: Double
        var time: PolicyDuration
        enum CodingKeys: String, CodingKey, CaseIterable { case types, family, distance, time }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            types = Set(try c.decode([String].self, forKey: .types))
            family = try c.decode(Double.self, forKey: .family)
            distance = try c.decode(Double.self, forKey: .distance)
            time = try c.decode(PolicyDuration.self, forKey: .time)
        }
    }

    struct Thresholds: Decodable {
        var autoLink: Double
        var candidate: Double
        var margin: Double
        enum CodingKeys: String, CodingKey, CaseIterable { case autoLink = "auto_link", candidate, margin }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            autoLink = try c.decode(Double.self, forKey: .autoLink)
            candidate = try c.decode(Double.self, forKey: .candidate)
            margin = try c.decodeIfPresent(Double.self, forKey: .margin) ?? 0
            guard (0...1).contains(margin) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + [CodingKeys.margin], debugDescription: "must be between 0 and 1"))
            }
            guard candidate <= autoLink else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath + [CodingKeys.candidate], debugDescription: "must not be above auto_link"))
            }
        }
    }

    struct Weights: Decodable {
        var family, distance, time, text: Double
        enum CodingKeys: String, CodingKey, CaseIterable { case family, distance, time, text }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            family = try c.decode(Double.self, forKey: .family)
            distance = try c.decode(Double.self, forKey: .distance)
            time = try c.decode(Double.self, forKey: .time)
            text = try c.decode(Double.self, forKey: .text)
        }
    }

    /// Full score within `full_within`; never joined by score beyond `limit`, never proposed beyond
    /// `ask_within` (default: the limit).
    struct Limits<Value: Decodable>: Decodable {
        var fullWithin: Value
        var limit: Value
        var askWithin: Value?
        enum CodingKeys: String, CodingKey, CaseIterable { case fullWithin = "full_within", limit, askWithin = "ask_within" }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            fullWithin = try c.decode(Value.self, forKey: .fullWithin)
            limit = try c.decode(Value.self, forKey: .limit)
            askWithin = try c.decodeIfPresent(Value.self, forKey: .askWithin)
        }
    }
}

extension MappingCatalog {
    /// Loads `policies/authority.yaml` and `policies/matching.yaml` below `directory`; without them, `.none`.
    static func loadPolicy(_ directory: URL, kinds: RecordKinds) throws(LoadError) -> IncidentPolicy {
        let folder = directory.appendingPathComponent("policies")
        let authority = folder.appendingPathComponent("authority.yaml")
        let matching = folder.appendingPathComponent("matching.yaml")
        let fm = FileManager.default
        var policy = IncidentPolicy.none
        if fm.fileExists(atPath: authority.path) {
            let file: AuthorityFile = try decode(authority, kinds: kinds)
            policy.authority = file.policy
        }
        if fm.fileExists(atPath: matching.path) {
            let file: MatchingFile = try decode(matching)
            policy.matching = file.policy
        }
        return policy
    }
}

extension MappingCatalog {
    /// Loads `policies/sharing.yaml` below `directory`; without it, nothing is shared. Every kind an
    /// agreement grants needs the receiver's outbound mapping for it.
    static func loadSharing(_ directory: URL, outbound: [String: OutboundMapping], kinds: RecordKinds) throws(LoadError) -> SharingPolicy {
        let url = directory.appendingPathComponent("policies").appendingPathComponent("sharing.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else { return .none }
        let file: SharingFile = try decode(url, kinds: kinds)
        for agreement in file.policy.agreements.values.sorted(by: { $0.receiver.rawValue < $1.receiver.rawValue }) {
            for kind in agreement.grants.keys.map(\.rawValue).sorted()
            where outbound["\(agreement.receiver.rawValue)/outbound/\(kind)"] == nil {
                throw LoadError(
                    file: url.path, key: "agreements.\(agreement.receiver.rawValue).kinds.\(kind)",
                    message: "no outbound mapping writes it: add Mappings/\(agreement.receiver.rawValue)/outbound/\(kind).yaml")
            }
        }
        return file.policy
    }

    /// Loads `policies/routing.yaml` below `directory`; without it, nothing is transferred. Every
    /// rule's receiver needs a sharing agreement that grants it transfers.
    static func loadRouting(_ directory: URL, sharing: SharingPolicy, kinds: RecordKinds) throws(LoadError) -> RoutingPolicy {
        let url = directory.appendingPathComponent("policies").appendingPathComponent("routing.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else { return .none }
        let file: RoutingFile = try decode(url, kinds: kinds)
        for (index, rule) in file.policy.rules.enumerated() where sharing.agreements[rule.to]?.grants[.transfer] == nil {
            throw LoadError(
                file: url.path, key: "rules[\(index)].to",
                message: "'\(rule.to)' has no sharing agreement granting 'transfer': add kinds.transfer under agreements.\(rule.to) in policies/sharing.yaml")
        }
        return file.policy
    }

    /// An outbound mapping must be in its target's folder, be named after a known entity kind, and
    /// name code lists and crosswalks that exist.
    static func checkOutbound(
        _ spec: OutboundSpec, system: String, kind: String, file: String, codeLists: [String: CodeList], kinds: RecordKinds
    ) throws(LoadError) {
        guard spec.target == system else {
            throw LoadError(file: file, key: "target", message: "'\(spec.target)' but the file is in Mappings/\(system)/: they must agree")
        }
        guard spec.entity == kind, kinds.deliverable.map(\.rawValue).contains(kind) else {
            throw LoadError(
                file: file, key: "entity",
                message: "'\(spec.entity)': the file is named after the entity kind it writes, one of \(kinds.deliverable.map(\.rawValue).joined(separator: ", "))")
        }
        for (native, field) in spec.fields.sorted(by: { $0.key < $1.key }) {
            switch field.transform {
            case .label(let list), .code(let list, _):
                guard let codeList = codeLists[list] else {
                    throw LoadError(file: file, key: "fields.\(native)", message: "code list '\(list)' not found in Mappings/codes/")
                }
                if case .code(_, let crosswalk) = field.transform, codeList.crosswalks[crosswalk] == nil {
                    throw LoadError(file: file, key: "fields.\(native)", message: "code list '\(list)' has no crosswalk '\(crosswalk)'")
                }
            case .time, nil:
                break
            }
        }
    }
}

/// A duration in a policy file: `90s`, `10m`, `2h`.
struct PolicyDuration: Decodable {
    var seconds: TimeInterval
    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let seconds = TimeInterval(durationText: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a duration like 90s, 10m or 2h"))
        }
        self.seconds = seconds
    }
}
