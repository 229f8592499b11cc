import Foundation

/// How a report without an xref or explicit cross-reference is matched to an open incident
/// (`Mappings/policies/matching.yaml`): a score from type family, distance, time gap and text, with
/// hard limits beyond which nothing matches.
public struct MatchingPolicy: Sendable, Hashable {
    /// At or above: link automatically.
    public var autoLink: Double
    /// At or above (and below `autoLink`): a link candidate for a person.
    public var candidate: Double
    public var weights: Weights
    /// Full distance score within this many metres; no match beyond `distanceLimit`.
    public var distanceFull: Double
    public var distanceLimit: Double
    /// Full time score within this gap; no match beyond `timeLimit`.
    public var timeFull: TimeInterval
    public var timeLimit: TimeInterval
    /// Incident type → family (`fire`, `rescue`, …). Reports of different families never match; a type
    /// in no family (or none at all) neither helps nor rules out a match.
    public var families: [String: String]
    public var version: Int

    /// The weight of each part of the score; they should add up to 1.
    public struct Weights: Sendable, Hashable {
        public var family: Double
        public var distance: Double
        public var time: Double
        public var text: Double
        public init(family: Double, distance: Double, time: Double, text: Double) {
            self.family = family
            self.distance = distance
            self.time = time
            self.text = text
        }
    }

    public init(
        autoLink: Double, candidate: Double, weights: Weights, distanceFull: Double, distanceLimit: Double,
        timeFull: TimeInterval, timeLimit: TimeInterval, families: [String: String], version: Int = 1
    ) {
        self.autoLink = autoLink
        self.candidate = candidate
        self.weights = weights
        self.distanceFull = distanceFull
        self.distanceLimit = distanceLimit
        self.timeFull = timeFull
        self.timeLimit = timeLimit
        self.families = families
        self.version = version
    }

    /// Scores a report against an incident; `nil` when a hard limit rules the match out.
    public func score(_ report: MatchFeatures, against incident: MatchFeatures) -> MatchScore? {
        guard let reportTime = report.time, let incidentTime = incident.time else { return nil }
        let gap = abs(reportTime.timeIntervalSince(incidentTime))
        guard gap <= timeLimit else { return nil }
        let family: Double
        if let a = report.type, a == incident.type {
            family = 1
        } else if let a = report.type.flatMap({ families[$0] }), let b = incident.type.flatMap({ families[$0] }) {
            guard a == b else { return nil }
            family = 0.8
        } else {
            family = 0.5  // a type unknown, or one in no family ("other"): the type cannot tell
        }
        let distance: Double
        var metres: Double?
        if let a = report.location, let b = incident.location {
            let d = a.distance(to: b)
            guard d <= distanceLimit else { return nil }
            metres = d
            distance = Self.falling(d, full: distanceFull, limit: distanceLimit)
        } else {
            guard let a = report.division, let b = incident.division, a.prefix(6) == b.prefix(6) else { return nil }
            distance = 0.5
        }
        let time = Self.falling(gap, full: timeFull, limit: timeLimit)
        let text = Self.similarity(report.text, incident.text)
        let total = weights.family * family + weights.distance * distance + weights.time * time + weights.text * text
        return MatchScore(
            total: (total * 1000).rounded() / 1000, family: family, distance: distance, time: time, text: text,
            metres: metres.map { $0.rounded() }, seconds: gap.rounded())
    }

    /// 1 up to `full`, falling linearly to 0 at `limit`.
    static func falling(_ x: Double, full: Double, limit: Double) -> Double {
        if x <= full { return 1 }
        if x >= limit { return 0 }
        return (limit - x) / (limit - full)
    }

    /// Character-bigram Jaccard similarity of two texts, white space ignored (works for Chinese addresses).
    public static func similarity(_ a: String, _ b: String) -> Double {
        func bigrams(_ s: String) -> Set<String> {
            let chars = Array(s.filter { !$0.isWhitespace && !$0.isPunctuation })
            guard chars.count > 1 else { return Set(chars.map(String.init)) }
            return Set((0..<(chars.count - 1)).map { String(chars[$0...$0 + 1]) })
        }
        let (x, y) = (bigrams(a), bigrams(b))
        guard !x.isEmpty, !y.isEmpty else { return 0 }
        return Double(x.intersection(y).count) / Double(x.union(y).count)
    }
}

/// What matching compares: a report's or an incident's type, place, time and text.
public struct MatchFeatures: Sendable, Hashable {
    public var type: String?
    public var location: GeoPoint?
    public var division: String?
    public var time: Date?
    public var text: String

    public init(type: String?, location: GeoPoint?, division: String?, time: Date?, text: String) {
        self.type = type
        self.location = location
        self.division = division
        self.time = time
        self.text = text
    }

    /// The incident fields features are made of.
    public static let incidentFields: Set<String> = ["incident_type", "location", "division_code", "reported_at", "address"]

    /// The features of a set of incident fields (`incident_type`, `location`, `division_code`,
    /// `reported_at`, `address`).
    public init(incidentFields fields: [String: FieldValue]) {
        let location = fields["location"]?.objectValue
        let lat = location?["lat"].flatMap(\.numberValue)
        let lon = location?["lon"].flatMap(\.numberValue)
        self.init(
            type: fields["incident_type"]?.stringValue,
            location: lat.flatMap { lat in lon.map { GeoPoint(latitude: lat, longitude: $0) } },
            division: fields["division_code"]?.stringValue,
            time: fields["reported_at"]?.stringValue.flatMap(Date.init(canonicalText:)),
            text: fields["address"]?.stringValue ?? "")
    }
}

/// A match score and its parts, recorded with every link and candidate.
public struct MatchScore: Sendable, Hashable, Codable {
    public var total: Double
    public var family: Double
    public var distance: Double
    public var time: Double
    public var text: Double
    /// Distance in metres when both had a location.
    public var metres: Double?
    /// Time gap in seconds.
    public var seconds: Double
}

extension GeoPoint {
    /// Great-circle (haversine) distance in metres on the Earth's mean sphere.
    public func distance(to other: GeoPoint) -> Double {
        let r = 6_371_008.8
        let (p1, p2) = (latitude * .pi / 180, other.latitude * .pi / 180)
        let dp = p2 - p1
        let dl = (other.longitude - longitude) * .pi / 180
        let h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2)
        return 2 * r * asin(min(1, sqrt(h)))
    }
}
