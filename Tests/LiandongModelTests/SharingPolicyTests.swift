import Foundation
import LiandongModel
import Testing

/// Deny by default: grants, masks, filters, expiry and no echo to the system an entity came from.
@Suite struct SharingPolicyTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let policy = SharingPolicy(agreements: [
        "police-110": SharingAgreement(
            receiver: "police-110", version: 3, expires: now.addingTimeInterval(3600),
            grants: [
                .incident: SharingGrant(
                    fields: ["category", "grade", "location.lat", "reports.phone"], masks: ["reports.phone": .phone],
                    filter: SharingFilter(categories: ["accident"], gradeAtLeast: 3, ungraded: false, divisions: ["3201"]))
            ]),
        "fire-119": SharingAgreement(
            receiver: "fire-119", version: 1, expires: now.addingTimeInterval(-1), grants: [.incident: SharingGrant(fields: ["category"])]),
    ])

    static let incident: [String: FieldValue] = [
        "category": .string("accident"), "grade": .string("Ⅲ"), "division_code": .string("320102"),
        "location": .object(["lat": .number(32.05), "lon": .number(118.79), "crs": .string("wgs84")]),
        "address": .string("玄武区中山路1号"),
        "reports": .array([.object(["phone": .string("13812345678"), "name": .string("张三")]), .object(["phone": .number(5)])]),
    ]

    func decide(_ fields: [String: FieldValue], for receiver: SourceSystemID, sources: Set<SourceSystemID> = ["hotline-12345"])
        -> SharingDecision
    {
        Self.policy.decide(SharedSubject(kind: .incident, fields: fields, sources: sources), for: receiver, at: Self.now)
    }

    /// `addressed: true` lets an instruction go only to the systems it names.
    @Test func anAddressedFilterAdmitsOnlyTheAddressees() {
        let filter = SharingFilter(addressed: true)
        let instruction: [String: FieldValue] = ["addressees": .array([.string("fire-119"), .string("police-110")])]
        #expect(filter.admits(instruction, receiver: "fire-119"))
        #expect(!filter.admits(instruction, receiver: "hotline-12345"))
        #expect(!filter.admits([:], receiver: "fire-119"))
        #expect(SharingFilter().admits([:], receiver: "hotline-12345"))
        // A filter by source admits what one of its systems sent, and nothing else.
        let geological = SharingFilter(sources: ["natural-resources"])
        #expect(geological.admits([:], from: ["natural-resources"], receiver: "geohazard"))
        #expect(!geological.admits([:], from: ["weather"], receiver: "geohazard"))
    }

    @Test func onlyGrantedFieldsLeaveAndMasksApply() throws {
        guard case .share(let fields, let agreement) = decide(Self.incident, for: "police-110") else {
            Issue.record("not shared")
            return
        }
        #expect(agreement.version == 3)
        #expect(Set(fields.keys) == ["category", "grade", "location", "reports"])
        #expect(fields["location"] == .object(["lat": .number(32.05)]))
        // The phone is masked; a value the mask cannot read is withheld, never sent in clear; the name is not granted.
        #expect(fields["reports"] == .array([.object(["phone": .string("138****5678")]), .object([:])]))
        #expect(!FieldValue.object(fields).canonicalJSON.contains("张三"))
        #expect(!FieldValue.object(fields).canonicalJSON.contains("中山路"))
    }

    @Test(arguments: [
        ("category", FieldValue.string("natural_disaster")),
        ("grade", .string("Ⅳ")),
        ("grade", .null),
        ("division_code", .string("330102")),
    ])
    func theFilterDecides(field: String, value: FieldValue) {
        var fields = Self.incident
        fields[field] = value
        #expect(decide(fields, for: "police-110") == .notEntitled)
    }

    @Test func noAgreementNoEchoAndExpiry() {
        #expect(decide(Self.incident, for: "hotline-12345") == .notEntitled, "no agreement: nothing")
        #expect(decide(Self.incident, for: "police-110", sources: ["police-110"]) == .notEntitled, "never sent back to its only source")
        if case .share = decide(Self.incident, for: "police-110", sources: ["police-110", "fire-119"]) {} else {
            Issue.record("an incident others reported too is shared")
        }
        guard case .expired(_, let agreement) = decide(Self.incident, for: "fire-119") else {
            Issue.record("an expired agreement must hold deliveries back")
            return
        }
        #expect(agreement.expiryMessage.contains("Mappings/policies/sharing.yaml"))
        #expect(agreement.expiryMessage.contains("deliveries retry --expired"))
    }

    @Test func ungradedIncidentsPassWhenTheAgreementSaysSo() {
        var policy = Self.policy
        policy.agreements["police-110"]?.grants[.incident]?.filter.ungraded = true
        var fields = Self.incident
        fields["grade"] = nil
        if case .share = policy.decide(SharedSubject(kind: .incident, fields: fields, sources: ["weather"]), for: "police-110", at: Self.now) {
        } else {
            Issue.record("ungraded: true admits an incident the bureau has not graded yet")
        }
    }
}
