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
        public var features: MatchFeatures
        /// Keys of the reports this one names (transfer numbers, related tickets), with the link type.
        public var names: [String: String]

        public init(key: String, features: MatchFeatures, names: [String: String] = [:]) {
            self.key = key
            self.features = features
            self.names = names
        }
    }

    /// Why two reports are joined.
    public enum Edge: Sendable, Hashable {
        case explicit(String)
        case match(MatchScore)
        case together

        /// `explicit:<type>`, `match` or `merge`: how a report joined, as recorded.
        public var reason: String {
            switch self {
            case .explicit(let type): "explicit:\(type)"
            case .match: "match"
            case .together: "merge"
            }
        }

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

    public var policy: MatchingPolicy
    /// Pairs (sorted keys) a person put together or apart.
    public var together: Set<Pair>
    public var apart: Set<Pair>

    /// Two report keys, in order.
    public struct Pair: Sendable, Hashable {
        public var a: String
        public var b: String
        public init(_ x: String, _ y: String) { (a, b) = x < y ? (x, y) : (y, x) }
    }

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
        /// another group in the candidate band that it could join (within the hard limits of every
        /// report there). Of a pair, the later report asks.
        public var candidates: [String: Candidate]
    }

    /// A report of another group that a report may belong with, and the score of the two.
    public struct Candidate: Sendable, Hashable {
        public var other: String
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
        let rivals = Rivals(scores, sources: Dictionary(nodes.map { ($0.key, $0.features.source ?? "") }, uniquingKeysWith: { a, _ in a }))
        // A score joins when it is within the hard limits, reaches auto_link and stands out from the
        // next best either report has. Between groups, a person is asked about a score that reaches
        // auto_link within the limits (two rivals about as likely, or refused by complete linkage) or
        // one that reaches `candidate` and stands out (weak, but alone).
        let decisive = { (pair: Pair, score: MatchScore) in
            policy.joins(score) && score.total >= policy.autoLink && score.total - rivals.runnerUp(pair) >= policy.margin
        }
        let asked = { (pair: Pair, score: MatchScore) in
            (policy.joins(score) && score.total >= policy.autoLink)
                || (score.total >= policy.candidate && score.total - rivals.runnerUp(pair) >= policy.margin)
        }
        var matches = scores.filter(decisive).map { ($0.key, Edge.match($0.value)) }
        hard.sort(by: Self.stronger)
        matches.sort(by: Self.stronger)
        var groups = Groups(nodes.map(\.key))
        for (pair, _) in hard {
            groups.join(pair.a, pair.b) { self.separated($0, $1) }
        }
        // Complete linkage: a score joins two groups only if every pair across them is within the limits.
        for (pair, _) in matches {
            groups.join(pair.a, pair.b) { left, right in
                separated(left, right) || !left.allSatisfy { x in right.allSatisfy { scores[Pair(x, $0)].map(policy.joins) ?? false } }
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

    /// For each report and source, its two best scores with reports of that source: a score joins only
    /// when it stands out from the next best either report has.
    struct Rivals {
        private var best: [String: [(score: Double, other: String)]] = [:]
        private let sources: [String: String]

        init(_ scores: [Pair: MatchScore], sources: [String: String]) {
            self.sources = sources
            for (pair, score) in scores {
                note(pair.a, pair.b, score.total)
                note(pair.b, pair.a, score.total)
            }
        }

        private mutating func note(_ key: String, _ other: String, _ score: Double) {
            let slot = key + "\u{1F}" + (sources[other] ?? "")
            var top = best[slot, default: []]
            top.append((score, other))
            top.sort { ($0.score, $1.other) > ($1.score, $0.other) }
            best[slot] = Array(top.prefix(2))
        }

        /// The best score either report of `pair` has with another report of the other's source (0 for none).
        func runnerUp(_ pair: Pair) -> Double {
            max(runnerUp(pair.a, besides: pair.b), runnerUp(pair.b, besides: pair.a))
        }

        private func runnerUp(_ key: String, besides other: String) -> Double {
            (best[key + "\u{1F}" + (sources[other] ?? "")] ?? []).first { $0.other != other }?.score ?? 0
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

    /// Reports and the scores of every pair of them within the hard limits, kept as reports are added:
    /// each pair is scored once however often the neighbourhood grows.
    public struct Neighbourhood: Sendable {
        public let policy: MatchingPolicy
        public private(set) var nodes: [Node] = []
        public private(set) var scores: [Pair: MatchScore] = [:]
        /// Timed nodes in (time, key) order: only reports within the time limit can match.
        private var timed: [(time: Date, node: Node)] = []
        private var keys: Set<String> = []

        public init(policy: MatchingPolicy) { self.policy = policy }

        /// Adds the nodes not held yet, scoring each against the held ones within the time limit.
        public mutating func add(_ added: [Node]) {
            for node in added where keys.insert(node.key).inserted {
                nodes.append(node)
                guard let time = node.features.time else { continue }
                let position = insertionPoint(time, node.key)
                var i = position - 1
                while i >= 0, time.timeIntervalSince(timed[i].time) <= policy.timeReach {
                    score(node, timed[i].node)
                    i -= 1
                }
                var j = position
                while j < timed.count, timed[j].time.timeIntervalSince(time) <= policy.timeReach {
                    score(node, timed[j].node)
                    j += 1
                }
                timed.insert((time, node), at: position)
            }
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
