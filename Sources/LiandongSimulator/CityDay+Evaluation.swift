import Foundation

extension CityDay {
    /// How well a set of incidents matches the day's true events, pair by pair: two reports in one
    /// incident are a joined pair; two reports of one event a true pair.
    public struct Evaluation: Sendable, Codable {
        /// Reports the hub holds (quarantined ones are not counted).
        public var reports: Int
        /// Incidents those reports are in.
        public var incidents: Int
        /// Pairs of reports of one event.
        public var truePairs: Int
        /// Pairs of reports in one incident.
        public var joinedPairs: Int
        /// Pairs of reports in one incident and of one event.
        public var correctPairs: Int
        /// Correct joined pairs over joined pairs (1 when nothing is joined).
        public var precision: Double
        /// Correct joined pairs over true pairs (1 when there are none).
        public var recall: Double
        /// Reports with an open link candidate, over reports: the share a person must look at.
        public var reviewLoad: Double
        /// Reports in the largest incident.
        public var largestIncident: Int
        /// Per kind of event: its reports, true pairs found and missed, wrong pairs a report of it is in.
        public var kinds: [KindSummary]
        /// Wrongly joined pairs by the two kinds of event joined (`traffic+medical`), most first.
        public var confusions: [Confusion]
        /// The first wrongly joined pairs (report keys), for a look at why.
        public var wrongPairs: [[String]]
        /// The first true pairs left apart.
        public var missedPairs: [[String]]

        /// One kind of event's share of the outcome.
        public struct KindSummary: Sendable, Codable {
            public var kind: String
            public var reports: Int
            /// Pairs of reports of one event of this kind, those found in one incident and those not.
            public var truePairs: Int
            public var found: Int
            public var missed: Int
            /// Wrongly joined pairs with a report of this kind.
            public var wrong: Int
            /// Reports of this kind with an open link candidate.
            public var withCandidate: Int
        }

        /// Pairs joined although of different events, by their kinds.
        public struct Confusion: Sendable, Codable {
            /// The two kinds, sorted, joined by `+`.
            public var kinds: String
            public var pairs: Int
        }

        /// Scores `incidentOf` (report key `source:id` → the incident it is in) against the true events
        /// of `reports`; `candidates` are the report keys with an open link candidate.
        public init(reports all: [Report], incidentOf: [String: String], candidates: Set<String>) {
            let held = all.filter { incidentOf[$0.key] != nil }
            let kindOf = Dictionary(held.map { ($0.key, $0.kind) }, uniquingKeysWith: { first, _ in first })
            func pairs(_ groups: [[String]]) -> [(String, String)] {
                groups.flatMap { group in
                    let keys = group.sorted()
                    return keys.indices.flatMap { i in keys[(i + 1)...].map { (keys[i], $0) } }
                }
            }
            let truth = Dictionary(grouping: held, by: \.event).values.map { $0.map(\.key) }
            let formed = Dictionary(grouping: held.map(\.key), by: { incidentOf[$0]! }).values.map { $0 }
            let eventOf = Dictionary(held.map { ($0.key, $0.event) }, uniquingKeysWith: { first, _ in first })
            let truePairs = pairs(truth)
            let joined = pairs(formed)
            let correct = joined.filter { eventOf[$0.0] == eventOf[$0.1] }
            reports = held.count
            incidents = formed.count
            self.truePairs = truePairs.count
            joinedPairs = joined.count
            correctPairs = correct.count
            precision = joined.isEmpty ? 1 : Double(correct.count) / Double(joined.count)
            recall = truePairs.isEmpty ? 1 : Double(correct.count) / Double(truePairs.count)
            reviewLoad = held.isEmpty ? 0 : Double(held.filter { candidates.contains($0.key) }.count) / Double(held.count)
            largestIncident = formed.map(\.count).max() ?? 0
            let wrong = joined.filter { eventOf[$0.0] != eventOf[$0.1] }
            let found = Set(correct.map { "\($0.0)|\($0.1)" })
            kinds = Dictionary(grouping: held, by: \.kind).map { kind, members in
                let keys = Set(members.map(\.key))
                let kindTrue = truePairs.filter { keys.contains($0.0) }
                let kindFound = kindTrue.filter { found.contains("\($0.0)|\($0.1)") }.count
                return KindSummary(
                    kind: kind, reports: members.count, truePairs: kindTrue.count, found: kindFound, missed: kindTrue.count - kindFound,
                    wrong: wrong.filter { keys.contains($0.0) || keys.contains($0.1) }.count,
                    withCandidate: members.filter { candidates.contains($0.key) }.count)
            }.sorted { $0.kind < $1.kind }
            let sortedPairs = { (pairs: [(String, String)]) in pairs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.prefix(50).map { [$0.0, $0.1] } }
            wrongPairs = sortedPairs(wrong)
            missedPairs = sortedPairs(truePairs.filter { !found.contains("\($0.0)|\($0.1)") })
            confusions = Dictionary(grouping: wrong, by: { pair in [kindOf[pair.0]!, kindOf[pair.1]!].sorted().joined(separator: "+") })
                .map { Confusion(kinds: $0.key, pairs: $0.value.count) }
                .sorted { ($1.pairs, $0.kinds) < ($0.pairs, $1.kinds) }
        }
    }
}

extension CityDay.Report {
    /// `source:id`, how the hub names the report.
    public var key: String { "\(source):\(id)" }
}
