import Crypto
import Foundation

/// One report of an incident as the merge sees it: its current fields and, for lifecycle fields, the
/// values it held before.
public struct IncidentReport: Sendable, Hashable {
    public var kind: EntityKind
    public var source: SourceSystemID
    public var externalID: String
    public var sourceTime: Date
    public var fields: [String: FieldValue]
    /// Field → earlier values with the source time they were held at.
    public var history: [String: [TimedValue]]

    public init(
        kind: EntityKind, source: SourceSystemID, externalID: String, sourceTime: Date, fields: [String: FieldValue],
        history: [String: [TimedValue]] = [:]
    ) {
        self.kind = kind
        self.source = source
        self.externalID = externalID
        self.sourceTime = sourceTime
        self.fields = fields
        self.history = history
    }

    /// `source:external_id`, the report's name everywhere in the hub.
    public var key: String { "\(source.rawValue):\(externalID)" }

    /// A value a report held, and the source time it was held at.
    public struct TimedValue: Sendable, Hashable {
        public var value: FieldValue
        public var sourceTime: Date
        public init(value: FieldValue, sourceTime: Date) {
            self.value = value
            self.sourceTime = sourceTime
        }
    }
}

/// What the merge decided for one incident.
public struct IncidentDecision: Sendable, Hashable {
    /// The winning value of each field.
    public var fields: [String: FieldValue] = [:]
    /// Where each winning value came from.
    public var provenance: [String: Provenance] = [:]
    /// Every value that lost, with why.
    public var alternates: [Alternate] = []
    /// Disagreements among equal authorities on a field the policy sends to review.
    public var conflicts: [Conflict] = []

    public init() {}

    /// The report (or the admin decision) a field's value came from.
    public struct Provenance: Sendable, Hashable, Codable {
        public var source: String
        public var report: String
        public var sourceTime: Date
        /// `authority`, `newest`, `earliest`, `lifecycle`, `reopen` or `resolved` (an admin chose it).
        public var rule: String

        /// As stored in `incident.provenance`: `source`, `report`, `sourceTime` (canonical time), `rule`.
        public var fieldValue: FieldValue {
            .object([
                "source": .string(source), "report": .string(report), "sourceTime": .string(sourceTime.canonicalText),
                "rule": .string(rule),
            ])
        }
    }

    /// A losing value.
    public struct Alternate: Sendable, Hashable, Codable {
        public var field: String
        public var value: FieldValue
        public var source: String
        public var report: String
        public var sourceTime: Date
        /// `lower_authority`, `older` (equal authority, older source time), `behind` (earlier in the
        /// lifecycle), `later` (not the earliest) or `conflict` (equal authority disagreeing, under review).
        public var reason: String
    }

    /// Equal authorities disagreeing on a `review` field.
    public struct Conflict: Sendable, Hashable, Codable {
        public var field: String
        /// Identifies this exact disagreement: the field and every (report, value) in it.
        public var key: String
        public var candidates: [Candidate]
    }

    /// One side of a conflict.
    public struct Candidate: Sendable, Hashable, Codable {
        public var report: String
        public var source: String
        public var value: FieldValue
        public var sourceTime: Date
    }
}

/// Decides an incident's fields from its reports under an authority policy. Pure: the same reports give
/// the same decision whatever order they arrived in.
public enum IncidentMerge {
    /// Decides every policy field. `resolutions` maps a conflict key to the value a person chose.
    public static func decide(
        _ reports: [IncidentReport], policy: AuthorityPolicy, resolutions: [String: FieldValue] = [:]
    ) -> IncidentDecision {
        var decision = IncidentDecision()
        let category = AuthorityPolicy.categoryField
        var names = policy.fields.keys.sorted()
        if let index = names.firstIndex(of: category) {
            names.remove(at: index)
            names.insert(category, at: 0)
        }
        for name in names {
            let chosenCategory = decision.fields[category]?.stringValue
            guard let rule = policy.rule(for: name, category: name == category ? nil : chosenCategory) else { continue }
            decide(name, rule: rule, reports: reports, resolutions: resolutions, into: &decision)
        }
        return decision
    }

    /// What `decide([report])` gives for the incident fields `names`, for one report: each field is
    /// the report's own value, as nothing competes with it. Identity resolution takes the features of
    /// every report near a change this way, without the candidates, provenance and alternates of a
    /// whole decision. A report with lifecycle history goes through `decide`.
    public static func fields(ofOne report: IncidentReport, policy: AuthorityPolicy, names: Set<String>) -> [String: FieldValue] {
        guard report.history.isEmpty else {
            return decide([report], policy: policy).fields.filter { names.contains($0.key) }
        }
        func value(of name: String, category: String?) -> FieldValue? {
            guard let rule = policy.rule(for: name, category: category),
                let value = report.fields[rule.reportField(name, kind: report.kind)], !value.isAbsent
            else { return nil }
            return value
        }
        let category = AuthorityPolicy.categoryField
        // The category is decided first: it picks the rules of the other fields.
        let chosenCategory = value(of: category, category: nil)
        var fields: [String: FieldValue] = [:]
        for name in names {
            fields[name] = name == category ? chosenCategory : value(of: name, category: chosenCategory?.stringValue)
        }
        return fields
    }

    struct Candidate {
        var value: FieldValue
        var report: IncidentReport
        var sourceTime: Date
        var rank: Int
        var current: Bool
        var json: String
    }

    static func decide(
        _ field: String, rule: FieldRule, reports: [IncidentReport], resolutions: [String: FieldValue],
        into decision: inout IncidentDecision
    ) {
        var candidates: [Candidate] = []
        for report in reports {
            let name = rule.reportField(field, kind: report.kind)
            let rank = rule.rank(of: report.source)
            if let value = report.fields[name], !value.isAbsent {
                candidates.append(
                    Candidate(
                        value: value, report: report, sourceTime: report.sourceTime, rank: rank, current: true, json: ""))
            }
            if rule.lifecycle != nil {
                for past in report.history[name] ?? [] where !past.value.isAbsent {
                    candidates.append(
                        Candidate(
                            value: past.value, report: report, sourceTime: past.sourceTime, rank: rank, current: false,
                            json: ""))
                }
            }
        }
        guard !candidates.isEmpty else { return }
        // Candidates are told apart by their canonical JSON; one alone needs none (most incidents
        // have one report, and every report's features are decided alone).
        if candidates.count > 1 {
            for index in candidates.indices { candidates[index].json = candidates[index].value.canonicalJSON }
        }
        // Newest source time first; equal times by value, then report, so arrival order never decides.
        func newer(_ a: Candidate, _ b: Candidate) -> Bool {
            if a.sourceTime != b.sourceTime { return a.sourceTime > b.sourceTime }
            if a.json != b.json { return a.json > b.json }
            return a.report.key > b.report.key
        }
        var winner: Candidate
        var how: String
        var lostBecause: (Candidate) -> String
        switch rule.decision {
        case .earliest:
            winner = candidates.min { a, b in
                let (x, y) = (a.value.scalarText.flatMap(Date.init(canonicalText:)), b.value.scalarText.flatMap(Date.init(canonicalText:)))
                if let x, let y, x != y { return x < y }
                return a.json != b.json ? a.json < b.json : a.report.key < b.report.key
            }!
            how = "earliest"
            lostBecause = { _ in "later" }
        case .authority:
            if let lifecycle = rule.lifecycle {
                let stage = { (c: Candidate) in lifecycle.firstIndex(of: c.value.scalarText ?? "") ?? -1 }
                winner = candidates.max { a, b in stage(a) != stage(b) ? stage(a) < stage(b) : newer(b, a) }!
                how = "lifecycle"
                // A ranked source that sent an earlier stage after the furthest one reopened the incident.
                let reopens = candidates.filter { $0.current && $0.rank < rule.ranks.count && $0.sourceTime > winner.sourceTime }
                if let reopen = reopens.sorted(by: newer).first {
                    winner = reopen
                    how = "reopen"
                }
                lostBecause = { _ in "behind" }
            } else {
                let best = candidates.map(\.rank).min()!
                let top = candidates.filter { $0.rank == best }.sorted(by: newer)
                winner = top[0]
                how = best < rule.ranks.count ? (top.count > 1 ? "authority, newest" : "authority") : "newest"
                lostBecause = { $0.rank > best ? "lower_authority" : "older" }
                let disagreeing = Set(top.map(\.json)).count > 1 && Set(top.map(\.report.key)).count > 1
                if rule.review && disagreeing {
                    let conflict = conflict(field, top)
                    decision.conflicts.append(conflict)
                    lostBecause = { $0.rank > best ? "lower_authority" : "conflict" }
                    if let chosen = resolutions[conflict.key] {
                        decision.fields[field] = chosen
                        decision.provenance[field] = .init(
                            source: "admin", report: conflict.key, sourceTime: winner.sourceTime, rule: "resolved")
                        for candidate in candidates where candidate.current && candidate.value != chosen {
                            decision.alternates.append(alternate(field, candidate, reason: lostBecause(candidate)))
                        }
                        return
                    }
                }
            }
        }
        decision.fields[field] = winner.value
        decision.provenance[field] = .init(
            source: winner.report.source.rawValue, report: winner.report.key, sourceTime: winner.sourceTime, rule: how)
        var seen: Set<String> = []
        for candidate in candidates where candidate.current && candidate.json != winner.json {
            guard seen.insert("\(candidate.report.key)\u{1F}\(candidate.json)").inserted else { continue }
            decision.alternates.append(alternate(field, candidate, reason: lostBecause(candidate)))
        }
    }

    static func alternate(_ field: String, _ candidate: Candidate, reason: String) -> IncidentDecision.Alternate {
        .init(
            field: field, value: candidate.value, source: candidate.report.source.rawValue, report: candidate.report.key,
            sourceTime: candidate.sourceTime, reason: reason)
    }

    static func conflict(_ field: String, _ top: [Candidate]) -> IncidentDecision.Conflict {
        let sides = top.map {
            IncidentDecision.Candidate(report: $0.report.key, source: $0.report.source.rawValue, value: $0.value, sourceTime: $0.sourceTime)
        }
        .sorted { ($0.report, $0.value.canonicalJSON) < ($1.report, $1.value.canonicalJSON) }
        let text = ([field] + sides.map { "\($0.report)=\($0.value.canonicalJSON)" }).joined(separator: "\n")
        let key = SHA256.hash(data: Data(text.utf8)).prefix(12).hexString
        return .init(field: field, key: key, candidates: sides)
    }
}

extension FieldValue {
    /// Null, or an empty object or array: a report that says nothing about the field.
    var isAbsent: Bool { self == .null || self == .object([:]) || self == .array([]) }
}
