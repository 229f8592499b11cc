import Foundation
import LiandongModel
import Testing

/// The authority merge and the match score, as pure functions.
@Suite struct IncidentMergeTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    static func report(_ source: String, _ id: String, at minutes: Double, _ fields: [String: FieldValue]) -> IncidentReport {
        IncidentReport(
            kind: source == "fire-119" ? .fireAlarm : .policeTicket, source: SourceSystemID(source), externalID: id,
            sourceTime: t0.addingTimeInterval(minutes * 60), fields: fields)
    }

    static let policy = AuthorityPolicy(fields: [
        "fire_task": FieldRule(ranks: [["fire-119"]]),
        "casualties": FieldRule(ranks: [["fire-119", "police-110"]], review: true),
        "status": FieldRule(ranks: [["fire-119"]], lifecycle: ["reported", "dispatched", "on_scene", "closed"]),
    ])

    /// One report's fields as matching takes them equal what a whole decision over that report alone
    /// gives: category overrides, per-kind source fields, absent values and earliest times included.
    @Test func oneReportsFieldsEqualItsWholeDecision() {
        let policy = AuthorityPolicy(
            fields: [
                "category": FieldRule(ranks: [["fire-119"]], from: [.fireAlarm: "event_category"]),
                "address": FieldRule(ranks: [["police-110"]]),
                "location": FieldRule(ranks: [["fire-119"]], from: [.fireAlarm: "position"]),
                "reported_at": FieldRule(from: [.fireAlarm: "alarm_time"], decision: .earliest),
                "status": FieldRule(ranks: [["fire-119"]], lifecycle: ["reported", "closed"]),
            ],
            categories: ["fire": ["address": FieldRule(ranks: [["fire-119"]], from: [.fireAlarm: "scene"])]])
        let reports = [
            Self.report("fire-119", "A", at: 1, [
                "event_category": "fire", "scene": "湖东路1号", "address": "ignored", "position": .object(["lat": 26, "lon": 119]),
                "alarm_time": "2026-11-24T01:00:00Z", "status": "reported",
            ]),
            Self.report("fire-119", "B", at: 2, ["event_category": "accident", "scene": "x", "address": "五一北路", "position": .null]),
            Self.report("police-110", "C", at: 3, ["category": "fire", "address": "湖东路", "reported_at": "2026-11-24T02:00:00Z", "status": .array([])]),
            Self.report("police-110", "D", at: 4, [:]),
        ]
        let names: Set<String> = ["category", "address", "location", "reported_at", "status", "not_in_policy"]
        for report in reports {
            #expect(IncidentMerge.fields(ofOne: report, policy: policy, names: names) == IncidentMerge.decide([report], policy: policy).fields)
        }
        #expect(policy.reportFields(deciding: ["address"], kind: .fireAlarm) == ["event_category", "address", "scene"])
    }

    @Test func authorityWinsAndTheLoserIsKept() {
        let reports = [
            Self.report("fire-119", "A", at: 1, ["fire_task": "firefighting"]),
            Self.report("police-110", "B", at: 9, ["fire_task": "rescue"]),
        ]
        let decision = IncidentMerge.decide(reports, policy: Self.policy)
        #expect(decision.fields["fire_task"] == "firefighting")
        #expect(decision.provenance["fire_task"]?.source == "fire-119")
        #expect(decision.alternates.map(\.reason) == ["lower_authority"])
    }

    @Test func arrivalOrderDoesNotMatter() {
        let reports = [
            Self.report("fire-119", "A", at: 1, ["casualties": .object(["injured": 3]), "status": "on_scene"]),
            Self.report("police-110", "B", at: 5, ["casualties": .object(["injured": 2]), "status": "dispatched"]),
            Self.report("police-110", "C", at: 3, ["fire_task": "rescue", "status": "closed"]),
        ]
        let first = IncidentMerge.decide(reports, policy: Self.policy)
        for order in [[2, 1, 0], [1, 0, 2], [0, 2, 1]] {
            let decision = IncidentMerge.decide(order.map { reports[$0] }, policy: Self.policy)
            #expect(decision.fields == first.fields)
            #expect(Set(decision.alternates) == Set(first.alternates))
            #expect(decision.conflicts == first.conflicts)
        }
    }

    @Test func equalAuthoritiesDisagreeingOpenAConflictAPersonCanDecide() {
        let reports = [
            Self.report("fire-119", "A", at: 1, ["casualties": .object(["injured": 3])]),
            Self.report("police-110", "B", at: 5, ["casualties": .object(["injured": 2])]),
        ]
        let open = IncidentMerge.decide(reports, policy: Self.policy)
        let conflict = try! #require(open.conflicts.first)
        #expect(conflict.field == "casualties")
        #expect(open.fields["casualties"] == .object(["injured": 2]), "provisionally the newest")
        let chosen: FieldValue = .object(["injured": 3])
        let decided = IncidentMerge.decide(reports, policy: Self.policy, resolutions: [conflict.key: chosen])
        #expect(decided.fields["casualties"] == chosen)
        #expect(decided.provenance["casualties"]?.rule == "resolved")
    }

    @Test func statusMovesOnlyForwardUnlessTheAuthorityReopens() {
        let closedByPolice = Self.report("police-110", "B", at: 10, ["status": "closed"])
        let lateFire = Self.report("fire-119", "A", at: 5, ["status": "on_scene"])
        #expect(IncidentMerge.decide([closedByPolice, lateFire], policy: Self.policy).fields["status"] == "closed")
        let reopened = Self.report("fire-119", "A", at: 20, ["status": "dispatched"])
        let decision = IncidentMerge.decide([closedByPolice, reopened], policy: Self.policy)
        #expect(decision.fields["status"] == "dispatched")
        #expect(decision.provenance["status"]?.rule == "reopen")
    }

    @Test func matchingGatesOnDistanceTimeAndFamily() {
        let policy = MatchingPolicy(
            autoLink: 0.75, candidate: 0.5, weights: .init(family: 0.35, distance: 0.3, time: 0.25, text: 0.1), distanceFull: 300,
            distanceLimit: 1000, timeFull: 600, timeLimit: 3600, families: ["fire": ["fire"], "gas_leak": ["fire"], "crime": ["order"]])
        let here = GeoPoint(latitude: 39.9219, longitude: 116.4431)
        let incident = MatchFeatures(type: "fire", location: here, division: "110105", time: Self.t0, text: "建国路88号")
        let near = MatchFeatures(
            type: "gas_leak", location: GeoPoint(latitude: 39.9225, longitude: 116.4440), division: "110105",
            time: Self.t0.addingTimeInterval(240), text: "建国路88号")
        #expect((policy.score(near, against: incident)?.total ?? 0) >= 0.75)
        var far = near
        far.location = GeoPoint(latitude: 39.9219, longitude: 116.4665)
        #expect(policy.score(far, against: incident) == nil, "2 km is past the limit")
        var other = near
        other.type = "crime"
        #expect(policy.score(other, against: incident) == nil, "different families never match")
        var late = near
        late.time = Self.t0.addingTimeInterval(7200)
        #expect(policy.score(late, against: incident) == nil)
    }
}
