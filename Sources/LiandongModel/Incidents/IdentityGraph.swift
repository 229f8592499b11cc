import Foundation

/// Which reports are one incident. Explicit cross-references and pairs a person put together join
/// reports whatever their distance; match scores at or above the auto-link threshold join them only
/// by **complete linkage**: two groups are joined by a score only when every report of one is within
/// the matching policy's hard limits of every report of the other, so A~B and B~C never put A and C
/// together when A and C could not match. Pairs a person put apart are never joined. Pure and
/// independent of the order reports arrived in: the same reports, links and decisions give the same
/// groups, since edges are applied strongest first with ties broken by the reports' keys.
public struct IdentityGraph: Sendable {
    /// A report as the graph sees it.
    public struct Node: Sendable, Hashable {
        /// `source:external_id`.
        public var key: String
        /// What matching compares.
        public var features: MatchFeatures
        /// Keys of the reports this one names (transfer numbers, related tickets), with the link type.
        public var names: [String: String]

        /// A report by its key, its features and the reports it names.
        public init(key: String, features: MatchFeatures, names: [String: String] = [:]) {
            self.key = key
            self.features = features
            self.names = names
        }
    }

    /// Why two reports are joined.
    public enum Edge: Sendable, Hashable {
        /// A cross-reference of this link type.
        case explicit(String)
        /// A decisive score.
        case match(MatchScore)
        /// A person's decision.
        case together

        /// `explicit:<type>`, `match` or `merge`: how a report joined, as recorded.
        public var reason: String {
            switch self {
            case .explicit(let type): "explicit:\(type)"
            case .match: "match"
            case .together: "merge"
            }
        }

        /// The score of a match.
        public var score: MatchScore? {
            if case .match(let score) = self { return score }
            return nil
        }

        var strength: Double {
            switch self {
            case .together: 3
            case .explicit: 2
            case .match(let score): score.total
            }
        }
    }

    /// The matching policy scores are made and judged by.
    public var policy: MatchingPolicy
    /// Pairs a person put together.
    public var together: Set<Pair>
    /// Pairs a person put apart: never in one group.
    public var apart: Set<Pair>

    /// Two report keys, in order.
    public struct Pair: Sendable, Hashable {
        /// The smaller key.
        public var a: String
        /// The larger key.
        public var b: String
        /// The pair of `x` and `y`, in either order.
        public init(_ x: String, _ y: String) { (a, b) = x < y ? (x, y) : (y, x) }
    }

    /// A graph judging by `policy`, with people's decisions.
    public init(policy: MatchingPolicy, together: Set<Pair> = [], apart: Set<Pair> = []) {
        self.policy = policy
        self.together = together
        self.apart = apart
    }

    /// The outcome of clustering a set of reports.
    public struct Clustering: Sendable {
        /// The groups, each sorted by key, the list sorted by first key.
        public var groups: [[String]]
        /// For each report, the strongest edge it has within its group (none for a report alone).
        public var joinedBy: [String: Edge]
        /// For a report, the one link candidate it asks a person about: the best-scoring report of
        /// another group among those asked about (see `clusters`), where every report of the two groups
        /// is within reach of every other. Of a pair, the later report asks.
        public var candidates: [String: Candidate]
    }

    /// A report of another group that a report may belong with, and the score of the two.
    public struct Candidate: Sendable, Hashable {
        /// A report of the group asked about.
        public var other: String
        /// The score of the asking report and `other`.
        public var score: MatchScore
    }

    /// Clusters `nodes`: explicit links and together decisions first, then scores, strongest first, each
    /// joining two groups only if every pair across them is within the hard limits and none was put apart.
    public func clusters(_ nodes: [Node]) -> Clustering {
        var neighbourhood = Neighbourhood(policy: policy)
        neighbourhood.add(nodes)
        return clusters(neighbourhood)
    }

    /// Clusters a neighbourhood whose pair scores are already known.
    public func clusters(_ neighbourhood: Neighbourhood) -> Clustering {
        let nodes = neighbourhood.nodes
        let scores = neighbourhood.scores
        let keys = Set(nodes.map(\.key))
        var hard: [(Pair, Edge)] = []
        for node in nodes {
            for (target, type) in node.names where keys.contains(target) && target != node.key {
                hard.append((Pair(node.key, target), .explicit(type)))
            }
        }
        for pair in together where keys.contains(pair.a) && keys.contains(pair.b) { hard.append((pair, .together)) }
        hard.sort(by: Self.stronger)
        var groups = Groups(nodes.map(\.key))
        for (pair, _) in hard {
            groups.join(pair.a, pair.b) { self.separated($0, $1) }
        }
        // Rivals are weighed once links and decisions have made their groups: a report linked with the
        // partner is no rival, nor one a person put apart.
        let hardGroups = groups
        let rivals = Rivals(scores, sources: Dictionary(nodes.map { ($0.key, $0.features.source ?? "") }, uniquingKeysWith: { a, _ in a })) {
            key, rival, partner in hardGroups.find(rival) == hardGroups.find(partner) || apart.contains(Pair(key, rival))
        }
        // A score joins when it is within the hard limits, reaches auto_link and stands out from the
        // next best either report has. Between groups, a person is asked about a score that reaches
        // auto_link within the limits (two rivals about as likely, or refused by complete linkage) or
        // one that reaches `candidate` and stands out (weak, but alone).
        let decisive = { (pair: Pair, score: MatchScore) in
            score.withinLimits && score.total >= policy.autoLink && score.total - rivals.runnerUp(pair) >= policy.margin
        }
        let asked = { (pair: Pair, score: MatchScore) in
            (score.withinLimits && score.total >= policy.autoLink)
                || (score.total >= policy.candidate && score.total - rivals.runnerUp(pair) >= policy.margin)
        }
        var matches = scores.filter(decisive).map { ($0.key, Edge.match($0.value)) }
        matches.sort(by: Self.stronger)
        // Complete linkage: a score joins two groups only if every pair across them is within the limits.
        for (pair, _) in matches {
            groups.join(pair.a, pair.b) { left, right in
                separated(left, right) || !left.allSatisfy { x in right.allSatisfy { scores[Pair(x, $0)]?.withinLimits ?? false } }
            }
        }
        var joinedBy: [String: Edge] = [:]
        for (pair, edge) in hard + matches where groups.find(pair.a) == groups.find(pair.b) {
            if joinedBy[pair.a] == nil { joinedBy[pair.a] = edge }
            if joinedBy[pair.b] == nil { joinedBy[pair.b] = edge }
        }
        let time = Dictionary(uniqueKeysWithValues: nodes.compactMap { node in node.features.time.map { (node.key, $0) } })
        var candidates: [String: Candidate] = [:]
        for (pair, score) in scores where asked(pair, score) {
            let (ga, gb) = (groups.find(pair.a), groups.find(pair.b))
            guard ga != gb else { continue }
            let (left, right) = (groups.members(of: ga), groups.members(of: gb))
            // Only where accepting could not chain: every other pair across within reach.
            guard !separated(left, right), !left.contains(where: { x in right.contains { scores[Pair(x, $0)] == nil } }) else { continue }
            // The later report asks about the earlier one's group.
            let aFirst = (time[pair.a] ?? .distantPast, pair.a) <= (time[pair.b] ?? .distantPast, pair.b)
            let (asking, other) = aFirst ? (pair.b, pair.a) : (pair.a, pair.b)
            let otherFirst = groups.members(of: groups.find(other)).min()!
            if let best = candidates[asking] {
                let bestFirst = groups.members(of: groups.find(best.other)).min()!
                guard (score.total, bestFirst) > (best.score.total, otherFirst) else { continue }
            }
            candidates[asking] = Candidate(other: other, score: score)
        }
        return Clustering(groups: groups.sorted(), joinedBy: joinedBy, candidates: candidates)
    }

    /// For each report and source, its scores with reports of that source, best first: a score joins
    /// only when it stands out from the next best either report has.
    struct Rivals {
        /// A report and a source.
        private struct Slot: Hashable {
            var key: String
            var source: String
        }
        private var ranked: [Slot: [(score: Double, other: String)]] = [:]
        private let sources: [String: String]
        /// Whether `rival` does not count against the pair of `key` and `partner`.
        private let ignored: (_ key: String, _ rival: String, _ partner: String) -> Bool

        init(
            _ scores: [Pair: MatchScore], sources: [String: String],
            ignoring ignored: @escaping (_ key: String, _ rival: String, _ partner: String) -> Bool
        ) {
            self.sources = sources
            self.ignored = ignored
            for (pair, score) in scores {
                ranked[Slot(key: pair.a, source: sources[pair.b] ?? ""), default: []].append((score.total, pair.b))
                ranked[Slot(key: pair.b, source: sources[pair.a] ?? ""), default: []].append((score.total, pair.a))
            }
            for slot in ranked.keys { ranked[slot]!.sort { ($0.score, $1.other) > ($1.score, $0.other) } }
        }

        /// The best score either report of `pair` has with another report of the other's source (0 for none).
        func runnerUp(_ pair: Pair) -> Double {
            max(runnerUp(pair.a, besides: pair.b), runnerUp(pair.b, besides: pair.a))
        }

        private func runnerUp(_ key: String, besides partner: String) -> Double {
            let rivals = ranked[Slot(key: key, source: sources[partner] ?? "")] ?? []
            return rivals.first { $0.other != partner && !ignored(key, $0.other, partner) }?.score ?? 0
        }
    }

    /// Whether a person put a report of `left` apart from one of `right`.
    func separated(_ left: [String], _ right: [String]) -> Bool {
        guard !apart.isEmpty else { return false }
        return left.contains { x in right.contains { apart.contains(Pair(x, $0)) } }
    }

    /// Strongest edges first, then by keys: which of two conflicting joins wins is decided by the edges
    /// themselves, never by arrival order.
    static func stronger(_ l: (Pair, Edge), _ r: (Pair, Edge)) -> Bool {
        l.1.strength != r.1.strength ? l.1.strength > r.1.strength : (l.0.a, l.0.b) < (r.0.a, r.0.b)
    }

    /// Disjoint groups of keys (union–find keeping each group's members), the group named by its
    /// smallest key.
    struct Groups {
        private var root: [String: String]
        private var members: [String: [String]]

        init(_ keys: [String]) {
            root = Dictionary(uniqueKeysWithValues: keys.map { ($0, $0) })
            members = Dictionary(uniqueKeysWithValues: keys.map { ($0, [$0]) })
        }

        func find(_ key: String) -> String {
            var k = key
            while let parent = root[k], parent != k { k = parent }
            return k
        }

        func members(of group: String) -> [String] { members[group] ?? [] }

        /// Joins the groups of `a` and `b` unless `refuse` says no, given the two groups' members.
        mutating func join(_ a: String, _ b: String, unless refuse: ([String], [String]) -> Bool) {
            let (ra, rb) = (find(a), find(b))
            guard ra != rb, !refuse(members[ra]!, members[rb]!) else { return }
            let (keep, join) = ra < rb ? (ra, rb) : (rb, ra)
            root[join] = keep
            members[keep]! += members.removeValue(forKey: join)!
        }

        func sorted() -> [[String]] { members.values.map { $0.sorted() }.sorted { $0[0] < $1[0] } }
    }

    /// Reports and the scores of every pair of them within the reach, kept as reports are added: each
    /// pair is scored once however often the neighbourhood grows.
    public struct Neighbourhood: Sendable {
        /// The policy the pairs are scored by.
        public let policy: MatchingPolicy
        /// The reports, in the order added.
        public private(set) var nodes: [Node] = []
        /// The score of every pair within the reach.
        public private(set) var scores: [Pair: MatchScore] = [:]
        /// Timed nodes in (time, key) order: only reports within the reach in time can match.
        private var timed: [(time: Date, node: Node)] = []
        private var keys: Set<String> = []

        /// An empty neighbourhood scored by `policy`.
        public init(policy: MatchingPolicy) { self.policy = policy }

        /// Adds the nodes not held yet, scoring each against the held ones and the other added ones
        /// within the reach in time.
        public mutating func add(_ added: [Node]) {
            var fresh: [(time: Date, node: Node)] = []
            for node in added where keys.insert(node.key).inserted {
                nodes.append(node)
                if let time = node.features.time { fresh.append((time, node)) }
            }
            fresh.sort { ($0.time, $0.node.key) < ($1.time, $1.node.key) }
            for (n, (time, node)) in fresh.enumerated() {
                // Against the held ones near it, then the added ones after it.
                var i = insertionPoint(time, node.key) - 1
                while i >= 0, time.timeIntervalSince(timed[i].time) <= policy.longestGap {
                    score(node, timed[i].node)
                    i -= 1
                }
                var j = insertionPoint(time, node.key)
                while j < timed.count, timed[j].time.timeIntervalSince(time) <= policy.longestGap {
                    score(node, timed[j].node)
                    j += 1
                }
                for later in fresh[(n + 1)...] {
                    guard later.time.timeIntervalSince(time) <= policy.longestGap else { break }
                    score(node, later.node)
                }
            }
            timed = (timed + fresh).sorted { ($0.time, $0.node.key) < ($1.time, $1.node.key) }
        }

        private mutating func score(_ x: Node, _ y: Node) {
            if let score = policy.score(x.features, against: y.features) { scores[Pair(x.key, y.key)] = score }
        }

        /// Where (time, key) goes in `timed`, by binary search.
        private func insertionPoint(_ time: Date, _ key: String) -> Int {
            var (low, high) = (0, timed.count)
            while low < high {
                let mid = (low + high) / 2
                if (timed[mid].time, timed[mid].node.key) < (time, key) { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }
}
