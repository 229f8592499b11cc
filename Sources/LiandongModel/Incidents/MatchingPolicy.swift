import Foundation

/// How a report without an xref or explicit cross-reference is matched to another report
/// (`Mappings/policies/matching.yaml`): a score from type family, distance, time gap and text, with
/// hard limits beyond which nothing matches.
///
/// The hard limits are what identity resolution's complete linkage checks between every two reports
/// joined by score (`IdentityGraph`): a pair that is `nil` here never ends up in one incident by score.
public struct MatchingPolicy: Sendable, Hashable {
    /// At or above, within the limits and standing out by `margin`: joined by score.
    public var autoLink: Double
    /// At or above and standing out by `margin`: a link candidate for a person (so is a score at or
    /// above `autoLink` that does not stand out).
    public var candidate: Double
    /// How far a score must stand above the next best score either report has with another report of
    /// the other's source to join them; a pair with a rival about as likely is a candidate instead.
    public var margin: Double
    /// The weight of each part of the score.
    public var weights: Weights
    /// Full distance score within this many metres, falling to none at `distanceLimit`; reports beyond
    /// the limit are never joined by score, and beyond `distanceReach` not even proposed to a person.
    public var distanceFull: Double
    /// No join by score beyond this many metres.
    public var distanceLimit: Double
    /// No candidate beyond this many metres (at least `distanceLimit`).
    public var distanceReach: Double
    /// Full time score within this gap, falling to none at `timeLimit`; beyond the limit never joined by
    /// score, beyond `timeReach` not even proposed.
    public var timeFull: TimeInterval
    /// No join by score beyond this gap.
    public var timeLimit: TimeInterval
    /// No candidate beyond this gap (at least `timeLimit`).
    public var timeReach: TimeInterval
    /// Families of events that last, scored on a time scale of their own.
    public var lasting: Lasting
    /// Incident type → the families it belongs to: how different agencies describe one event (a
    /// neighbour dispute to 110 is a noise complaint to 12345). Two types match when they share a family.
    public var families: [String: Set<String>]
    /// Types that say only that someone needs help (110's 求助, an unmapped 警情细类): they match any
    /// emergency type, but only on strong place and time evidence.
    public var vague: Vague
    /// Types that are no emergency (12345 enquiries and complaints): never joined or proposed by score.
    public var nonEmergency: Set<String>
    /// Whether two reports of one source system may be joined by score. Agencies merge repeated calls
    /// about one event at their own desk, so by default two of their reports are two events.
    public var sameSource: Bool
    /// The policy file's version, recorded with the incidents it decided.
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

    /// Families of events that last, and their time scale: a neighbour dispute keeps the street awake,
    /// so 12345 hears of it as a noise complaint half an hour after 110 attended, where a crash is a
    /// moment. Two reports whose types share a lasting family are scored on this scale instead.
    public struct Lasting: Sendable, Hashable {
        /// The families (names under `families`).
        public var families: Set<String>
        /// Full time score within this gap, falling to none at `timeLimit`.
        public var timeFull: TimeInterval
        /// No join by score beyond this gap.
        public var timeLimit: TimeInterval
        /// No candidate beyond this gap (at least `timeLimit`).
        public var timeReach: TimeInterval
        /// Lasting `families` and their time scale.
        public init(families: Set<String>, timeFull: TimeInterval, timeLimit: TimeInterval, timeReach: TimeInterval? = nil) {
            self.families = families
            self.timeFull = timeFull
            self.timeLimit = timeLimit
            self.timeReach = max(timeLimit, timeReach ?? timeLimit)
        }

        /// No lasting families.
        public static let none = Lasting(families: [], timeFull: 0, timeLimit: 0)
    }

    /// Vague types and the evidence they need: both locations known and within `distance` metres,
    /// report times within `time`; their family part is `family`.
    public struct Vague: Sendable, Hashable {
        /// The vague types (`assistance`, `other`).
        public var types: Set<String>
        /// Their family part against an emergency type.
        public var family: Double
        /// The most metres apart the two may be located.
        public var distance: Double
        /// The longest gap between the two report times.
        public var time: TimeInterval
        /// Vague `types` and the evidence they need.
        public init(types: Set<String>, family: Double, distance: Double, time: TimeInterval) {
            self.types = types
            self.family = family
            self.distance = distance
            self.time = time
        }

        /// No vague types.
        public static let none = Vague(types: [], family: 0, distance: 0, time: 0)
    }

    /// Makes a policy; `distanceReach` and `timeReach` default to the limits (no candidates beyond
    /// them), `lasting` and `vague` to none, `sameSource` to joining one system's reports like any others.
    public init(
        autoLink: Double, candidate: Double, margin: Double = 0, weights: Weights, distanceFull: Double, distanceLimit: Double,
        distanceReach: Double? = nil, timeFull: TimeInterval, timeLimit: TimeInterval, timeReach: TimeInterval? = nil,
        families: [String: Set<String>], lasting: Lasting = .none, vague: Vague = .none,
        nonEmergency: Set<String> = [], sameSource: Bool = true, version: Int = 1
    ) {
        self.autoLink = autoLink
        self.candidate = candidate
        self.margin = margin
        self.weights = weights
        self.distanceFull = distanceFull
        self.distanceLimit = distanceLimit
        self.distanceReach = max(distanceLimit, distanceReach ?? distanceLimit)
        self.timeFull = timeFull
        self.timeLimit = timeLimit
        self.timeReach = max(timeLimit, timeReach ?? timeLimit)
        self.families = families
        self.lasting = lasting
        self.vague = vague
        self.nonEmergency = nonEmergency
        self.sameSource = sameSource
        self.version = version
    }

    /// Scores a report against another; `nil` when the two cannot be one event: a type that is no
    /// emergency, types of no common family, the same source (unless `sameSource`), distance or time
    /// beyond the reach, or a vague type without strong evidence. A score beyond the limits
    /// (`withinLimits` false) can only make a link candidate.
    public func score(_ report: MatchFeatures, against other: MatchFeatures) -> MatchScore? {
        guard let reportTime = report.time, let otherTime = other.time else { return nil }
        let gap = abs(reportTime.timeIntervalSince(otherTime))
        guard gap <= longestGap else { return nil }
        if !sameSource, let a = report.source, a == other.source { return nil }
        guard let family = familyScore(report.type, other.type) else { return nil }
        let (timeFull, timeLimit, timeReach) =
            family.lasting
            ? (lasting.timeFull, lasting.timeLimit, lasting.timeReach) : (self.timeFull, self.timeLimit, self.timeReach)
        guard gap <= timeReach else { return nil }
        let vagueEvidence = family.vague
        let distance: Double
        var metres: Double?
        if let a = report.location, let b = other.location {
            let d = a.distance(to: b)
            guard d <= distanceReach else { return nil }
            if vagueEvidence { guard d <= vague.distance, gap <= vague.time else { return nil } }
            metres = d
            distance = Self.falling(d, full: distanceFull, limit: distanceLimit)
        } else {
            guard !vagueEvidence else { return nil }
            guard let a = report.division, let b = other.division, a.prefix(6) == b.prefix(6) else { return nil }
            distance = 0.5
        }
        let time = Self.falling(gap, full: timeFull, limit: timeLimit)
        let withinLimits = gap <= timeLimit && (metres ?? 0) <= distanceLimit
        // Text last: the bigrams are the costliest part, and most pairs are ruled out before.
        let text = Self.overlap(report.textBigrams, other.textBigrams)
        let total = weights.family * family.score + weights.distance * distance + weights.time * time + weights.text * text
        return MatchScore(
            total: (total * 1000).rounded() / 1000, family: family.score, distance: distance, time: time, text: text,
            metres: metres.map { $0.rounded() }, seconds: gap.rounded(), withinLimits: withinLimits)
    }

    /// The longest gap in time at which any two reports are scored: how far apart in time the reports
    /// a report is compared with may be.
    public var longestGap: TimeInterval { max(timeReach, lasting.timeReach) }

    /// The family part of two types: `vague.family` when a side is vague (or has no type) and the other
    /// an emergency, 1 the same type, 0.8 a shared family; `nil` when a side is no emergency or the two
    /// share no family (a type in no family matches only itself and vague types). `lasting` when the
    /// two types share a lasting family (a type shares its own families with itself).
    func familyScore(_ a: String?, _ b: String?) -> (score: Double, vague: Bool, lasting: Bool)? {
        if let a, nonEmergency.contains(a) { return nil }
        if let b, nonEmergency.contains(b) { return nil }
        let isVague = { (type: String?) in type.map { vague.types.contains($0) } ?? true }
        if isVague(a) || isVague(b) { return (vague.family, true, false) }
        let shared = (a.flatMap { families[$0] } ?? []).intersection(b.flatMap { families[$0] } ?? [])
        let lasting = !shared.isDisjoint(with: lasting.families)
        if a == b { return (1, false, lasting) }
        return shared.isEmpty ? nil : (0.8, false, lasting)
    }

    /// 1 up to `full`, falling linearly to 0 at `limit`.
    static func falling(_ x: Double, full: Double, limit: Double) -> Double {
        if x <= full { return 1 }
        if x >= limit { return 0 }
        return (limit - x) / (limit - full)
    }

    /// Character-bigram overlap of two texts, white space and punctuation ignored: the share of the
    /// shorter text's bigrams the longer one has, so that "五一北路128号附近" and "福州市鼓楼区五一北路128号"
    /// agree although one says more (works for Chinese addresses).
    public static func similarity(_ a: String, _ b: String) -> Double {
        overlap(bigrams(a), bigrams(b))
    }

    static func overlap(_ x: Bigrams, _ y: Bigrams) -> Double {
        guard !x.codes.isEmpty, !y.codes.isEmpty else { return 0 }
        let (small, large) = x.codes.count <= y.codes.count ? (x.codes, y.codes) : (y.codes, x.codes)
        // Both sorted and unique: one merge.
        var (i, j, shared) = (0, 0, 0)
        while i < small.count, j < large.count {
            if small[i] == large[j] {
                shared += 1
                i += 1
                j += 1
            } else if small[i] < large[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return Double(shared) / Double(small.count)
    }

    /// The character bigrams of a text, white space and punctuation ignored (a one-character text is
    /// its character).
    static func bigrams(_ s: String) -> Bigrams { Bigrams(s) }

    /// A text's character bigrams as sorted, unique numbers, since a report is compared with hundreds
    /// of others and sets of two-character strings cost an allocation and a string hash each. A
    /// character of one Unicode scalar is its scalar value, so two such characters make a bigram
    /// exactly (the scalars side by side, top bit set). A character of several scalars is its
    /// composed form's scalar (e + ◌́ is é, as the two compare equal), and where that is still several
    /// (an emoji sequence) a 40-bit FNV-1a hash of its UTF-8; a bigram with one is a hash of the two
    /// (bit 62 set), so two different texts could share a number, at odds of about one in 2^40 per
    /// pair. A one-character text is its character's number, below both kinds.
    struct Bigrams: Sendable, Hashable {
        let codes: [UInt64]

        init(_ text: String) {
            var characters: [UInt64] = []
            characters.reserveCapacity(text.utf8.count / 2)
            if text.unicodeScalars.allSatisfy(Self.standsAlone) {
                // Every scalar is a character of its own (the common case: Chinese, digits, Latin
                // letters), so the text is read without breaking it into characters, which cost more
                // than the rest of the bigrams; a one-scalar character is what its scalar is.
                for scalar in text.unicodeScalars where !scalar.properties.isWhitespace && !Self.isPunctuation(scalar) {
                    characters.append(UInt64(scalar.value))
                }
            } else {
                for character in text where !character.isWhitespace && !character.isPunctuation {
                    characters.append(Self.code(of: character))
                }
            }
            guard characters.count > 1 else {
                codes = characters
                return
            }
            var pairs = (0..<(characters.count - 1)).map { Self.pair(characters[$0], characters[$0 + 1]) }
            pairs.sort()
            var unique: [UInt64] = []
            unique.reserveCapacity(pairs.count)
            for pair in pairs where unique.last != pair { unique.append(pair) }
            codes = unique
        }

        /// Whether `scalar` is a character by itself whatever stands beside it: it is in none of the
        /// ranges where a scalar can join a neighbour into one character (combining marks from U+0300,
        /// the ideographic tone marks and kana voicing marks, Hangul jamo, joiners, variation
        /// selectors, flags, emoji modifiers, the halfwidth voicing marks).
        private static func standsAlone(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0..<0x300, 0x3000..<0x302A, 0x3030..<0x3099, 0x309B..<0xA000, 0xAC00...0xD7A3, 0xFF00..<0xFF9E: true
            default: false
            }
        }

        /// `Character.isPunctuation` of a character of one scalar.
        private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
                .finalPunctuation, .otherPunctuation:
                true
            default: false
            }
        }

        private static func code(of character: Character) -> UInt64 {
            if character.unicodeScalars.count == 1 { return UInt64(character.unicodeScalars.first!.value) }
            // Characters compare by canonical equivalence (e + ◌́ is é): their composed form decides.
            let composed = String(character).precomposedStringWithCanonicalMapping
            if composed.unicodeScalars.count == 1 { return UInt64(composed.unicodeScalars.first!.value) }
            return fnv1a(composed.utf8) & (1 << 40 - 1) | 1 << 40
        }

        private static func pair(_ a: UInt64, _ b: UInt64) -> UInt64 {
            if a < 1 << 21, b < 1 << 21 { return 1 << 63 | a << 21 | b }
            var bytes: [UInt8] = []
            for value in [a, b] { for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
            return fnv1a(bytes) & (1 << 62 - 1) | 1 << 62
        }

        private static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return hash
        }
    }
}

/// What matching compares: a report's or an incident's type, place, time and text.
public struct MatchFeatures: Sendable, Hashable {
    public var type: String?
    /// The source system of a report (`nil` for an incident's features).
    public var source: String?
    public var location: GeoPoint?
    public var division: String?
    public var time: Date?
    public var text: String { didSet { textBigrams = MatchingPolicy.bigrams(text) } }
    /// The text's bigrams, made once: a report is compared with hundreds of others.
    private(set) var textBigrams: MatchingPolicy.Bigrams

    public init(type: String?, source: String? = nil, location: GeoPoint?, division: String?, time: Date?, text: String) {
        self.type = type
        self.source = source
        self.location = location
        self.division = division
        self.time = time
        self.text = text
        textBigrams = MatchingPolicy.bigrams(text)
    }

    /// The incident fields features are made of.
    public static let incidentFields: Set<String> = ["incident_type", "location", "division_code", "reported_at", "address"]

    /// The features of a set of incident fields (`incident_type`, `location`, `division_code`,
    /// `reported_at`, `address`), of a report of `source` when given.
    public init(incidentFields fields: [String: FieldValue], source: String? = nil) {
        let location = fields["location"]?.objectValue
        let lat = location?["lat"].flatMap(\.numberValue)
        let lon = location?["lon"].flatMap(\.numberValue)
        self.init(
            type: fields["incident_type"]?.stringValue, source: source,
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
    /// Whether the pair is within the hard limits of distance and time: two reports that may be joined
    /// by score. Reports matched by their county division for want of coordinates count as within the
    /// distance limit.
    public var withinLimits: Bool
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
