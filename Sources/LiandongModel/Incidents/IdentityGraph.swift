import Foundation

/// Which reports are one incident: the connected components of a graph whose edges are explicit
/// cross-references, match scores at or above the auto-link threshold, and pairs a person put
/// together; pairs a person put apart are never joined. Pure and independent of the order reports
/// arrived in: the same reports, links and decisions give the same components.
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

    /// The components of `nodes`, each sorted by key, the list sorted by first key; for each node the
    /// strongest edge it has within its component (none for a report alone); and the scores between the
    /// two thresholds that join different components (link candidates).
    public func components(_ nodes: [Node]) -> (groups: [[String]], joinedBy: [String: Edge], candidates: [Pair: MatchScore]) {
        let keys = Set(nodes.map(\.key))
        var edges: [(Pair, Edge)] = []
        for node in nodes {
            for (target, type) in node.names where keys.contains(target) && target != node.key {
                edges.append((Pair(node.key, target), .explicit(type)))
            }
        }
        for pair in together where keys.contains(pair.a) && keys.contains(pair.b) { edges.append((pair, .together)) }
        // Only reports within the time limit can match: sweep in time order.
        let timed = nodes.filter { $0.features.time != nil }.sorted { ($0.features.time!, $0.key) < ($1.features.time!, $1.key) }
        var candidates: [Pair: MatchScore] = [:]
        for (i, x) in timed.enumerated() {
            for y in timed[(i + 1)...] {
                guard y.features.time!.timeIntervalSince(x.features.time!) <= policy.timeLimit else { break }
                guard let score = policy.score(y.features, against: x.features) else { continue }
                if score.total >= policy.autoLink {
                    edges.append((Pair(x.key, y.key), .match(score)))
                } else if score.total >= policy.candidate {
                    candidates[Pair(x.key, y.key)] = score
                }
            }
        }
        // Strongest edges first, then by keys: which of two conflicting unions wins is decided by the
        // edges themselves, never by arrival order.
        edges.sort { l, r in
            l.1.strength != r.1.strength ? l.1.strength > r.1.strength : (l.0.a, l.0.b) < (r.0.a, r.0.b)
        }
        var root = Dictionary(uniqueKeysWithValues: nodes.map { ($0.key, $0.key) })
        var members = Dictionary(uniqueKeysWithValues: nodes.map { ($0.key, [$0.key]) })
        func find(_ k: String) -> String {
            var k = k
            while root[k]! != k { k = root[k]! }
            return k
        }
        for (pair, _) in edges {
            let (ra, rb) = (find(pair.a), find(pair.b))
            guard ra != rb else { continue }
            let separated = members[ra]!.contains { x in members[rb]!.contains { apart.contains(Pair(x, $0)) } }
            guard !separated else { continue }
            let (keep, join) = ra < rb ? (ra, rb) : (rb, ra)
            root[join] = keep
            members[keep]! += members.removeValue(forKey: join)!
        }
        var joinedBy: [String: Edge] = [:]
        for (pair, edge) in edges where find(pair.a) == find(pair.b) {
            if joinedBy[pair.a] == nil { joinedBy[pair.a] = edge }
            if joinedBy[pair.b] == nil { joinedBy[pair.b] = edge }
        }
        let groups = members.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
        candidates = candidates.filter { find($0.key.a) != find($0.key.b) && !apart.contains($0.key) }
        return (groups, joinedBy, candidates)
    }
}
