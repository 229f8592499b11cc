import Foundation
import LiandongMapping
import LiandongModel
import LiandongTestKit
import Testing

/// `policies/sharing.yaml` and outbound mappings: loaded strictly, errors naming file, key and fix;
/// documents written in the receiver's format.
@Suite struct SharingFileTests {
    static let outbound = """
        version: 2
        target: fire-119
        entity: incident
        document: {format: xml, root: SJXX, encoding: gbk}
        fields:
          SJBH: {from: $id}
          SJLB: {from: category, label: event-category}
          FSSJ: {from: reported_at, time: {pattern: "yyyy-MM-dd HH:mm:ss"}}
          WZ.WD: {from: location.lat}
          FSDZ: {from: address}
        """

    static func sharing(_ kinds: String, expires: String = "2030-01-01") -> String {
        """
        agreements:
          fire-119:
            version: 2
            expires: \(expires)
            kinds:
        \(kinds)
        """
    }

    @Test func theRepositoryPolicyLoads() throws {
        let catalog = try MappingFixture.repositoryCatalog()
        #expect(
            Set(catalog.policies.sharing.agreements.keys.map(\.rawValue))
                == ["broadcast", "emergency-bureau", "fire-119", "geohazard", "hotline-12345", "police-110", "police-110-exchange"])
        // Only the broadcast platform waits for an operator.
        #expect(catalog.policies.sharing.agreements.values.filter(\.approvalRequired).map(\.receiver) == ["broadcast"])
        for agreement in catalog.policies.sharing.agreements.values {
            for kind in agreement.grants.keys { #expect(catalog.outboundMapping(target: agreement.receiver, kind: kind) != nil) }
        }
    }

    @Test func aDateExpiresAtMidnightInChina() throws {
        let catalog = try MappingFixture.catalog([
            "fire-119/outbound/incident.yaml": Self.outbound,
            "policies/sharing.yaml": Self.sharing("      incident: {fields: [category]}"),
        ])
        #expect(catalog.policies.sharing.agreements["fire-119"]?.expires.canonicalText == "2029-12-31T16:00:00Z")
    }

    @Test(arguments: [
        ("      incident: {fields: [category], mask: {address: phone}}", "kinds.incident.mask", "not granted"),
        ("      warning: {fields: [colour]}", "agreements.fire-119.kinds.warning", "Mappings/fire-119/outbound/warning.yaml"),
        ("      incidents: {fields: [category]}", "kinds", "not an entity kind"),
        ("      incident: {fields: [category], filter: {grade_at_least: 5}}", "grade_at_least", "1 (Ⅰ 特别重大) to 4"),
        ("      incident: {fields: [category], filter: {colour: [red]}}", "colour", "unknown key"),
    ])
    func mistakesNameTheKey(kinds: String, key: String, hint: String) {
        #expect {
            try MappingFixture.catalog(["fire-119/outbound/incident.yaml": Self.outbound, "policies/sharing.yaml": Self.sharing(kinds)])
        } throws: { error in
            let text = "\(error)"
            return text.contains("sharing.yaml") && text.contains(key) && text.contains(hint)
        }
    }

    @Test func anApprovalIsRequiredOrNone() throws {
        let approval = Self.sharing("      incident: {fields: [category]}").replacingOccurrences(of: "    version: 2", with: "    version: 2\n    approval: required")
        let catalog = try MappingFixture.catalog(["fire-119/outbound/incident.yaml": Self.outbound, "policies/sharing.yaml": approval])
        #expect(catalog.policies.sharing.agreements["fire-119"]?.approvalRequired == true)
        #expect {
            try MappingFixture.catalog([
                "fire-119/outbound/incident.yaml": Self.outbound,
                "policies/sharing.yaml": approval.replacingOccurrences(of: "approval: required", with: "approval: yes"),
            ])
        } throws: { error in
            "\(error)".contains("approval") && "\(error)".contains("expected 'required'")
        }
    }

    @Test func theCAPProfileWritesWarningsOnlyAndNoFields() {
        let cap = "version: 1\ntarget: fire-119\nentity: warning\ndocument: {format: xml, profile: cap}\n"
        #expect(throws: Never.self) { try MappingFixture.catalog(["fire-119/outbound/warning.yaml": cap]) }
        #expect {
            try MappingFixture.catalog(["fire-119/outbound/warning.yaml": cap + "fields:\n  YJBH: {from: identifier}\n"])
        } throws: { error in
            "\(error)".contains("profile cap") && "\(error)".contains("no 'fields'")
        }
    }

    @Test(arguments: [
        ("readings: {kind: warning, station: s, value: v, at: t}", "colour: red", "rules[0].readings", "warnings are what rules raise"),
        ("readings: {kind: resource, station: s, value: v, at: t}", "colour: purple", "rules[0].levels[0].colour", "not a warning colour"),
        ("readings: {kind: resource, station: s, value: v}", "colour: red", "rules[0].readings.at", "required"),
    ])
    func thresholdMistakesNameTheKey(readings: String, colour: String, key: String, hint: String) {
        let file = """
            rules:
              - name: r
                \(readings)
                limits: {kind: resource, station: s}
                levels: [{over: l, name: 警戒水位, \(colour), severity: Moderate}]
                quantity: 水位
            """
        #expect {
            try MappingFixture.catalog(["policies/thresholds.yaml": file])
        } throws: { error in
            "\(error)".contains("thresholds.yaml") && "\(error)".contains(key) && "\(error)".contains(hint)
        }
    }

    /// `extends` takes another mapping's keys; a name that is no mapping is refused at the key.
    @Test func aMappingExtendsAnotherOrIsRefusedByName() throws {
        let extending = "extends: weather/cap-alert\nversion: 1\nsource: natural-resources\n"
        let catalog = try MappingFixture.catalog([
            "weather/cap-alert.yaml": try String(contentsOf: Repository.mappings.appendingPathComponent("weather/cap-alert.yaml"), encoding: .utf8),
            "natural-resources/cap-alert.yaml": extending,
        ])
        let mapping = try catalog.mapping(named: "natural-resources/cap-alert")
        #expect(mapping.source == "natural-resources" && mapping.kind == .warning)
        #expect(mapping.spec.fields.keys.sorted() == (try catalog.mapping(named: "weather/cap-alert")).spec.fields.keys.sorted())
        #expect {
            try MappingFixture.catalog(["natural-resources/cap-alert.yaml": extending.replacingOccurrences(of: "weather/", with: "nowhere/")])
        } throws: { error in
            "\(error)".contains("key 'extends'") && "\(error)".contains("nowhere/cap-alert")
        }
    }

    @Test func anOutboundMappingInTheWrongFolderIsNamed() {
        #expect {
            try MappingFixture.catalog(["police-110/outbound/incident.yaml": Self.outbound])
        } throws: { error in
            "\(error)".contains("key 'target'") && "\(error)".contains("Mappings/police-110/")
        }
    }

    @Test func xmlInGBKWithLabelsLocalTimesAndNesting() throws {
        let catalog = try MappingFixture.catalog(["fire-119/outbound/incident.yaml": Self.outbound])
        let mapping = try #require(catalog.outboundMapping(target: "fire-119", kind: .incident))
        let rendered = mapping.render(
            ["category": .string("accident"), "reported_at": .string("2026-11-24T02:05:09Z"), "location": .object(["lat": .number(32.5)])],
            envelope: .init(id: "abc", version: 3, kind: .incident))
        #expect(rendered.contentType == "application/xml; charset=GBK")
        let text = try #require(String(data: Data(rendered.body), encoding: String.Encoding(rawValue: 0x8000_0632)))
        #expect(text.hasPrefix("<?xml version=\"1.0\" encoding=\"GBK\"?>"))
        #expect(text.contains("<SJBH>abc</SJBH>"))
        #expect(text.contains("<SJLB>事故灾难</SJLB>"))
        #expect(text.contains("<FSSJ>2026-11-24 10:05:09</FSSJ>"), "local time in Asia/Shanghai")
        #expect(text.contains("<WZ><WD>32.5</WD></WZ>"))
        #expect(!text.contains("FSDZ"), "an absent field leaves its element out")
        #expect(Array(text.utf8) != rendered.body, "the bytes are GBK, not UTF-8")
    }

    @Test(arguments: [
        ("to: police-110", "rules[0].to", "granting 'transfer'"),
        ("to: fire-119, kind: work_orders", "kind", "not a mapped kind"),
        ("to: fire-119, accept_within: soon", "accept_within", "not a duration"),
        ("to: fire-119, mode: fax", "mode", "online or one_key"),
    ])
    func routingMistakesNameTheKey(rule: String, key: String, hint: String) {
        var fields = ["name: r", "from: hotline-12345", "kind: work_order", "when: {incident_type: [noise]}", "reason: x",
                      "accept_within: 30m", "feedback_within: 1h"]
        for part in rule.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let name = part.prefix { $0 != ":" }
            fields.removeAll { $0.hasPrefix(name + ":") }
            fields.append(part)
        }
        let outbound = Self.outbound.replacingOccurrences(of: "entity: incident", with: "entity: transfer")
        #expect {
            try MappingFixture.catalog([
                "fire-119/outbound/transfer.yaml": outbound,
                "policies/sharing.yaml": Self.sharing("      transfer: {fields: [from_number]}"),
                "policies/routing.yaml": "rules:\n  - {\(fields.joined(separator: ", "))}\n",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("routing.yaml") && text.contains(key) && text.contains(hint)
        }
    }

    @Test func aRuleMatchesAnyListedFieldValue() throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let fields: [String: FieldValue] = ["incident_type": .string("noise"), "appeal_type": .string("complaint")]
        #expect(catalog.policies.routing.rule(for: .workOrder, from: "hotline-12345", fields: fields)?.to == "police-110")
        #expect(catalog.policies.routing.rule(for: .workOrder, from: "hotline-12345", fields: ["incident_type": .string("waterlogging")]) == nil)
        #expect(catalog.policies.routing.rule(for: .policeTicket, from: "police-110", fields: ["category": .string("non_police")])?.to == "hotline-12345")
    }
}
