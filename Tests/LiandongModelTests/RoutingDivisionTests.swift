import LiandongModel
import Testing

/// A routing rule's divisions hold together with its fields.
@Suite struct RoutingDivisionTests {
    @Test func aRuleWithDivisionsTakesOnlyTheirMatters() {
        let yunnan = RoutingRule(
            name: "police-matters-yunnan", from: "hotline-12345", kind: .workOrder, to: "police-110-exchange",
            when: ["incident_type": ["noise"]], divisions: ["53"], reason: "转110", mode: "online", acceptWithin: 1800, feedbackWithin: 86400)
        #expect(yunnan.matches(["incident_type": "noise", "division_code": "530102"]))
        #expect(!yunnan.matches(["incident_type": "noise", "division_code": "350102"]), "another province")
        #expect(!yunnan.matches(["incident_type": "noise"]), "no division: not known to be Yunnan's")
        #expect(!yunnan.matches(["incident_type": "crime", "division_code": "530102"]), "not its matter")
        var anywhere = yunnan
        anywhere.divisions = nil
        #expect(anywhere.matches(["incident_type": "noise", "division_code": "350102"]))
    }
}
