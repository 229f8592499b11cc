import Foundation
import LiandongModel
import Testing

/// Identity at a city's density, as pure functions: complete linkage, vague and non-emergency types,
/// one candidate per report, and explicit links and decisions beyond the hard limits.
@Suite struct IdentityGraphTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    static let centre = GeoPoint(latitude: 26.0745, longitude: 119.2965)

    static let policy = MatchingPolicy(
        autoLink: 0.75, candidate: 0.6, weights: .init(family: 0.35, distance: 0.3, time: 0.25, text: 0.1), distanceFull: 300,
        distanceLimit: 1000, timeFull: 600, timeLimit: 3600,
        families: [
            "fire": ["fire"], "burns": ["fire"], "traffic_accident": ["traffic"], "injury": ["traffic"], "rescue": ["traffic", "water"],
            "waterlogging": ["water"], "public_order": ["order"], "noise": ["order"],
        ],
        vague: .init(types: ["assistance", "other"], family: 0.6, distance: 250, time: 600), nonEmergency: ["civic_matter"],
        sameSource: false)

    /// A report `east` metres east of the centre, `minutes` after t0.
    static func node(
        _ key: String, _ type: String?, east: Double, minutes: Double, text: String = "", names: [String: String] = [:]
    ) -> IdentityGraph.Node {
        let point = GeoPoint(latitude: centre.latitude, longitude: centre.longitude + east / (111_320 * cos(centre.latitude * .pi / 180)))
        let source = String(key.split(separator: ":")[0])
        return .init(
            key: key,
            features: MatchFeatures(
                type: type, source: source, location: point, division: "350102", time: t0.addingTimeInterval(minutes * 60), text: text),
            names: names)
    }

    /// A~B and B~C score above auto-link, A and C are 1.2 km apart: B joins one of them, never both.
    @Test func scoresDoNotChain() {
        let graph = IdentityGraph(policy: Self.policy)
        let nodes = [
            Self.node("police-110:A", "traffic_accident", east: 0, minutes: 0),
            Self.node("ambulance-120:B", "traffic_accident", east: 600, minutes: 2),
            Self.node("fire-119:C", "rescue", east: 1200, minutes: 4),
        ]
        #expect(Self.policy.score(nodes[2].features, against: nodes[0].features) == nil, "A and C are beyond the distance limit")
        let groups = graph.clusters(nodes).groups
        #expect(groups.count == 2, "\(groups)")
        #expect(!groups.contains { $0.contains("police-110:A") && $0.contains("fire-119:C") })
        // Every arrival order sees the same groups: the input order does not matter.
        for order in [[2, 1, 0], [1, 0, 2], [0, 2, 1]] {
            #expect(graph.clusters(order.map { nodes[$0] }).groups == groups)
        }
    }

    /// Two reports of one system are two events unless it links them; an explicit link still joins them.
    @Test func oneSystemsReportsJoinOnlyByLink() {
        let graph = IdentityGraph(policy: Self.policy)
        let a = Self.node("police-110:A", "public_order", east: 0, minutes: 0)
        let b = Self.node("police-110:B", "public_order", east: 10, minutes: 1)
        #expect(graph.clusters([a, b]).groups.count == 2)
        var linked = b
        linked.names = ["police-110:A": "related"]
        #expect(graph.clusters([a, linked]).groups == [["police-110:A", "police-110:B"]])
    }

    /// A 12345 enquiry at the same place and minute as a fire joins nothing and proposes nothing.
    @Test func nonEmergencyMattersStayApart() {
        let graph = IdentityGraph(policy: Self.policy)
        let fire = Self.node("fire-119:F", "fire", east: 0, minutes: 0, text: "五一北路128号")
        let enquiry = Self.node("hotline-12345:H", "civic_matter", east: 0, minutes: 0, text: "五一北路128号")
        let result = graph.clusters([fire, enquiry])
        #expect(result.groups.count == 2)
        #expect(result.candidates.isEmpty)
        // A transfer's explicit link still joins it.
        var transferred = enquiry
        transferred.names = ["fire-119:F": "transferred_from"]
        #expect(graph.clusters([fire, transferred]).groups.count == 1)
    }

    /// 求助 joins a chest-pain call only on strong evidence: 100 m and 3 minutes yes, 400 m no, and a
    /// vague type no longer scores half against everything.
    @Test func vagueTypesNeedStrongEvidence() {
        let graph = IdentityGraph(policy: Self.policy)
        let call = Self.node("ambulance-120:E", "medical_emergency", east: 0, minutes: 0)
        #expect(graph.clusters([call, Self.node("police-110:P", "assistance", east: 100, minutes: 3)]).groups.count == 1)
        #expect(graph.clusters([call, Self.node("police-110:P", "assistance", east: 400, minutes: 3)]).groups.count == 2)
        #expect(graph.clusters([call, Self.node("police-110:P", "assistance", east: 100, minutes: 20)]).groups.count == 2)
        let vague = Self.node("police-110:P", "other", east: 100, minutes: 3)
        #expect((Self.policy.score(vague.features, against: call.features)?.family ?? 0) < 0.8)
    }

    /// A noise complaint 35 minutes after the dispute ticket joins it when their family lasts, not
    /// without `lasting`; a crash and an injury 70 minutes apart are beyond the reach of a moment.
    @Test func lastingFamiliesScoreOnTheirOwnTimeScale() {
        var policy = Self.policy
        policy.families["public_order"] = ["order", "dispute"]
        policy.families["noise"] = ["order", "dispute"]
        policy.lasting = .init(families: ["dispute"], timeFull: 1800, timeLimit: 5400)
        let ticket = Self.node("police-110:T", "public_order", east: 0, minutes: 0)
        let complaint = Self.node("hotline-12345:H", "noise", east: 50, minutes: 35)
        #expect(IdentityGraph(policy: policy).clusters([ticket, complaint]).groups.count == 1)
        #expect(IdentityGraph(policy: Self.policy).clusters([ticket, complaint]).groups.count == 2)
        let crash = Self.node("police-110:C", "traffic_accident", east: 0, minutes: 0)
        let injury = Self.node("ambulance-120:I", "injury", east: 50, minutes: 70)
        #expect(IdentityGraph(policy: policy).clusters([crash, injury]).groups.count == 2)
        #expect(policy.score(complaint.features, against: ticket.features)?.withinLimits == true)
        #expect(policy.score(injury.features, against: crash.features) == nil, "beyond the reach of a crash")
    }

    /// A report near two incidents gets one candidate, for the better one; of a pair, the later asks.
    @Test func oneCandidatePerReport() {
        let graph = IdentityGraph(policy: Self.policy)
        let nodes = [
            Self.node("police-110:A", "public_order", east: 0, minutes: 0),
            Self.node("fire-119:B", "rescue", east: 3000, minutes: 0),
            // Noise complaint 650 m from A, 25 minutes later: in the band against A only.
            Self.node("hotline-12345:N", "noise", east: 650, minutes: 25),
            Self.node("ambulance-120:M", "injury", east: 650, minutes: 25),
        ]
        let result = graph.clusters(nodes)
        for (asking, candidate) in result.candidates {
            #expect(candidate.score.total >= Self.policy.candidate && candidate.score.total < Self.policy.autoLink)
            #expect(asking != candidate.other)
        }
        #expect(result.candidates["hotline-12345:N"]?.other == "police-110:A")
        #expect(result.candidates["police-110:A"] == nil, "the earlier report does not ask")
        #expect(Set(result.candidates.keys).count == result.candidates.count)
    }

    /// A person's together decision and explicit links join beyond the hard limits; apart wins over both.
    @Test func decisionsAndLinksJoinAcrossAnyGap() {
        let order = Self.node("hotline-12345:H", "noise", east: 0, minutes: 0)
        let ticket = Self.node("police-110:T", "public_order", east: 0, minutes: 150, names: ["hotline-12345:H": "transferred_from"])
        let graph = IdentityGraph(policy: Self.policy)
        #expect(graph.clusters([order, ticket]).groups.count == 1, "two and a half hours apart, joined by the transfer")
        let far = Self.node("fire-119:F", "fire", east: 5000, minutes: 300)
        let together = IdentityGraph(policy: Self.policy, together: [.init("hotline-12345:H", "fire-119:F")])
        #expect(together.clusters([order, far]).groups.count == 1)
        let apart = IdentityGraph(policy: Self.policy, apart: [.init("hotline-12345:H", "police-110:T")])
        #expect(apart.clusters([order, ticket]).groups.count == 2)
    }
}
