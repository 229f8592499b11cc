import Foundation
import LiandongModel

// A labelled synthetic city day, for measuring identity resolution (issue 18).
//
// The model. A city day is a set of true events; each is heard of by one agency (most) or by two to
// four (`sharedShare` of events). Every agency that hears of an event makes one report of it, in
// its own format and words, and the report is labelled with the event. The generator draws, in order:
// 1. each agency's volume for the window (its six-hour figure scaled by `hours / 6`);
// 2. shared events, one kind at a time from `EventKind.shared` (weighted), until they are
//    `sharedShare` of all events; at most `sharedRoom` of an agency's reports go to shared events
//    (this only binds for 119, whose 20 alarms could not otherwise cover the fires, floods and gas
//    leaks others also report; the rest stay lift rescues, lockouts and rubbish fires of its own);
// 3. single-agency events from `EventKind.single` filling each agency's remaining volume;
// 4. for each event a start time (busy hours likelier, `hourlyShape`) and a place: `hotspotShare`
//    of events within `hotspotRadius` (1 km) of one of `hotspots` hotspots, the others in a district (weighted by
//    population) within 3 km of its centre;
// 5. for each agency of an event a report: its time (the role's delay after the start), its own
//    geocoding of the place (10–125 m off, so two reports of one event lie 0–250 m apart, written in
//    the agency's coordinate system), its own wording of the address and of the type, and where the
//    real systems carry one, an explicit link (a 110 ticket transferred from a 12345 order names the
//    order; some 120 calls name the 110 ticket that passed them on);
// 6. when the hub may first pull each report: a few seconds after it was made, or 1–3 h for
//    `lateShare` of them (a front-end server that forwards in batches, a link that was down).
//
// What is realistic: volumes and mix of a city of several million (12345 mostly enquiries and
// complaints, 110 thefts, frauds, disputes and crashes, 120 illness, 119 few); agencies' own words,
// including words their crosswalks do not know; clustering of unrelated events at hotspots and on
// the same streets (the confusions real matching meets); reports of one event minutes and a few
// hundred metres apart, 12345 often much later; transfers beyond the matching window; late pages.
//
// What is simplified: every agency reports an event once (no repeated calls, no follow-up versions:
// each record has only its first status); streets are not tied to districts, and an event keeps the
// division it was drawn in even where its 3 km disc reaches into a neighbour; one daytime shape for
// all agencies; callers' phones are random; shared events are independent of each other (no storm
// that floods many underpasses at once). Events start inside the window; a later report of one (a
// transfer, up to 3 h on) may fall after it.

/// A synthetic city day: every report each agency would hold, labelled with the true event it reports.
///
/// ```swift
/// var configuration = CityDay.Configuration()
/// configuration.city = .wuhan
/// let day = CityDay(configuration)
/// for report in day.reports where report.source == "fire-119" { print(report.id, report.event, report.kind) }
/// let page = CityDay.document(Array(day.reports.prefix(100)), source: "police-110")
/// ```
public struct CityDay: Sendable {
    /// What to generate; the same configuration always gives the same day.
    public struct Configuration: Sendable {
        /// Seed of every random choice.
        public var seed: UInt64 = 1
        /// Length of the window in hours, from `start`.
        public var hours: Double = 6
        /// Start of the window: 2026-11-18 08:00 Asia/Shanghai.
        public var start = Date(timeIntervalSince1970: 1_794_960_000)
        /// The city (one of `City.all`, or your own).
        public var city: City = .fuzhou
        /// 12345 work orders per six hours (scaled by `hours / 6`).
        public var hotline: Int = 1700
        /// 110 tickets per six hours.
        public var police: Int = 730
        /// 120 calls per six hours.
        public var ambulance: Int = 450
        /// 119 alarms per six hours.
        public var fire: Int = 20
        /// Share of events that reach more than one agency.
        public var sharedShare: Double = 0.04
        /// Number of hotspots (commercial centres, stations, old quarters), fixed by seed and city.
        public var hotspots: Int = 12
        /// Share of events (and so of reports) within `hotspotRadius` of a hotspot.
        public var hotspotShare: Double = 0.35
        /// How far from its centre a hotspot's events happen, in metres: a commercial quarter, a
        /// station and its square, an old town's lanes.
        public var hotspotRadius: Double = 1000
        /// Share of reports delivered late: the hub can first pull them 1–3 hours after their time.
        public var lateShare: Double = 0.01

        /// The defaults: six hours of a Fuzhou weekday from 08:00.
        public init() {}
    }

    /// One report as an agency holds it.
    public struct Report: Sendable {
        /// The agency's system: `hotline-12345`, `police-110`, `ambulance-120` or `fire-119`.
        public var source: String
        /// The agency's own number for it (the external id); the hub names the report `source:id`.
        public var id: String
        /// The true event's id: reports of one event share it.
        public var event: String
        /// What the event is: `traffic`, `fire`, `dispute`, `collapse`, `flood`, `gas`, `drowning`,
        /// `fight` (shared kinds) or `civic`, `crime`, `assist`, `crowd`, `medical`, `injury`,
        /// `rescue` (single-agency kinds, with `traffic`, `fire`, `dispute`, `flood`).
        public var kind: String
        /// When the agency received it (whole seconds).
        public var reported: Date
        /// When the hub may first pull it: 2–20 s after `reported`, or 1–3 h for late ones.
        public var arrives: Date
        /// Its fields, named as the agency's format names them (first status only).
        public var version: SimulatedVersion
    }

    /// What the day was generated from.
    public var configuration: Configuration
    /// Every report of the day, sorted by (arrives, source, id).
    public var reports: [Report]

    /// Generates the day `configuration` describes.
    public init(_ configuration: Configuration) {
        precondition(
            !configuration.city.districts.isEmpty && configuration.city.streets.count >= 2,
            "a city needs at least one district and two streets")
        self.configuration = configuration
        var generator = Generator(configuration)
        reports = generator.reports()
    }

    /// A page of the reports of `source` (others are left out) in that agency's native format,
    /// exactly what its adapter pulls: 12345 REST JSON, 110 JSON with Chinese keys, 119 GBK XML, 120
    /// CSV. The page says no more follow. Empty for an unknown source.
    public static func document(_ reports: [Report], source: String) -> [UInt8] {
        let versions = reports.filter { $0.source == source }.map(\.version)
        switch Agency(rawValue: source) {
        case .hotline?: return Render.hotlinePage(versions, hasMore: false, malformed: false)
        case .police?: return Render.policePage(versions, hasMore: false, malformed: false)
        case .ambulance?: return Render.ambulanceCSV(versions, malformed: false)
        case .fire?:
            return Array(
                Render.firePage(versions, hasMore: false, malformed: false).data(using: Render.gb18030) ?? Data())
        case nil: return []
        }
    }
}

extension CityDay {
    /// Draws a day: events, then their reports (see the model at the top of this file).
    struct Generator {
        /// At most this share of an agency's reports belong to shared events.
        static let sharedRoom = 0.7
        /// Relative volume of calls by local hour (0–23): a night trough at a fifth of the morning
        /// peak (09–11), a lunch dip, a long afternoon and evening, as dispatch centres' hourly
        /// curves show.
        static let hourlyShape: [Double] = [
            0.40, 0.30, 0.22, 0.18, 0.17, 0.22, 0.35, 0.60, 0.85, 1.00, 1.00, 0.95,
            0.80, 0.80, 0.90, 0.95, 0.95, 0.90, 0.85, 0.85, 0.80, 0.70, 0.60, 0.50,
        ]

        let configuration: Configuration
        var dice: Dice
        let hotspots: [Hotspot]

        init(_ configuration: Configuration) {
            self.configuration = configuration
            dice = Dice(seed: configuration.seed)
            hotspots = Self.makeHotspots(configuration.hotspots, in: configuration.city, seed: configuration.seed)
        }

        /// A true event as drawn.
        struct Event {
            var kind: EventKind
            var roles: [Role]
            var start: Date
            var place: Place
            var casualties: Int
        }

        /// A report before numbering: its event (index), agency, words, time, place and the draft it names.
        struct Draft {
            var event: Int
            var agency: Agency
            var words: Words
            var reported: Date
            /// Where the agency put it, WGS-84.
            var point: GeoPoint
            var address: String
            var names: Int?
            var id = ""
        }

        /// The whole day's reports, sorted by (arrives, source, id).
        mutating func reports() -> [Report] {
            let events = self.events()
            var drafts: [Draft] = []
            for index in events.indices { draft(events[index], index, into: &drafts) }

            // Number each agency's records in the order it received them.
            var counts: [Agency: Int] = [:]
            for i in drafts.indices.sorted(by: { (drafts[$0].reported, $0) < (drafts[$1].reported, $1) }) {
                let agency = drafts[i].agency
                let number = counts[agency, default: 0]
                counts[agency] = number + 1
                drafts[i].id = agency.recordID(
                    number: number, at: drafts[i].reported, division: events[drafts[i].event].place.district.code)
            }
            // Name events in the order they started.
            var names = [String](repeating: "", count: events.count)
            for (n, i) in events.indices.sorted(by: { (events[$0].start, $0) < (events[$1].start, $1) }).enumerated() {
                names[i] = "E" + String(format: "%06d", n + 1)
            }

            var reports: [Report] = []
            reports.reserveCapacity(drafts.count)
            for draft in drafts {
                let event = events[draft.event]
                let fields = self.fields(of: draft, in: event, naming: draft.names.map { drafts[$0].id })
                let delay = dice.chance(configuration.lateShare) ? dice.range(3600...10_800) : dice.range(2...20)
                reports.append(
                    Report(
                        source: draft.agency.rawValue, id: draft.id, event: names[draft.event], kind: event.kind.label,
                        reported: draft.reported, arrives: draft.reported.addingTimeInterval(delay.rounded()),
                        version: SimulatedVersion(id: draft.id, updated: draft.reported, fields: fields)))
            }
            return reports.sorted { ($0.arrives, $0.source, $0.id) < ($1.arrives, $1.source, $1.id) }
        }

        /// The true events: shared ones while they are fewer than `sharedShare` of all events, then
        /// single-agency ones filling each agency's remaining volume.
        mutating func events() -> [Event] {
            let scale = max(0, configuration.hours) / 6
            var left: [Agency: Int] = [:]
            var room: [Agency: Int] = [:]
            for agency in Agency.allCases {
                let volume = Int((Double(max(0, agency.volume(in: configuration))) * scale).rounded())
                left[agency] = volume
                room[agency] = Int(Double(volume) * Self.sharedRoom)
            }
            let total = left.values.reduce(0, +)
            var plans: [(kind: EventKind, roles: [Role])] = []
            var inShared = 0
            // Events = shared ones + one per report not in a shared event.
            while Double(plans.count) < configuration.sharedShare * Double(plans.count + total - inShared) {
                let open = EventKind.shared.filter { $0.isPossible(room) }
                guard let kind = dice.pick(open, weight: { $0.weight }) else { break }
                let roles = self.roles(of: kind, room: room)
                for role in roles {
                    room[role.agency, default: 0] -= 1
                    left[role.agency, default: 0] -= 1
                }
                inShared += roles.count
                plans.append((kind, roles))
            }
            for agency in Agency.allCases {
                let kinds = EventKind.single.filter { $0.roles[0].agency == agency }
                for _ in 0..<max(0, left[agency, default: 0]) {
                    let kind = dice.pick(kinds, weight: { $0.weight })!
                    plans.append((kind, kind.roles))
                }
            }
            var events: [Event] = []
            events.reserveCapacity(plans.count)
            for plan in plans {
                let start = time()
                let place = self.place()
                let casualties = dice.int(plan.kind.casualties)
                events.append(
                    Event(kind: plan.kind, roles: plan.roles, start: start, place: place, casualties: casualties))
            }
            return events
        }

        /// The agencies that hear of one shared event: each certain one, each other by its chance,
        /// and the likeliest others until there are two; none whose room for shared reports is used up.
        mutating func roles(of kind: EventKind, room: [Agency: Int]) -> [Role] {
            let open = kind.roles.filter { room[$0.agency, default: 0] > 0 }
            var chosen: [Bool] = []
            for role in open { chosen.append(role.chance >= 1 || dice.chance(role.chance)) }
            for i in open.indices.sorted(by: { open[$0].chance > open[$1].chance })
            where chosen.filter({ $0 }).count < 2 {
                chosen[i] = true
            }
            return open.indices.filter { chosen[$0] }.map { open[$0] }
        }

        /// The reports of one event, appended to `drafts`: each agency's time, place, address and words,
        /// and the earlier draft of this event it names, if any.
        mutating func draft(_ event: Event, _ index: Int, into drafts: inout [Draft]) {
            let first = drafts.count
            for role in event.roles {
                let minutes = dice.range(role.delay)
                var reported = event.start.addingTimeInterval((minutes * 60).rounded())
                var names: Int?
                if let target = role.names, dice.chance(role.namesChance),
                    let named = drafts[first...].firstIndex(where: { $0.agency == target })
                {
                    // The named report came first: it is what passed the matter on.
                    names = named
                    let after = dice.range(30...120).rounded()
                    reported = max(reported, drafts[named].reported.addingTimeInterval(after))
                }
                let distance = dice.range(10...125)
                let point = dice.move(event.place.point, metres: distance)
                let style = dice.pick(role.agency.addressStyles, weight: { $0.1 })!.0
                let address = self.address(of: event.place, style)
                let words = dice.pick(role.words, weight: { $0.weight })!
                drafts.append(
                    Draft(
                        event: index, agency: role.agency, words: words, reported: reported, point: point,
                        address: address,
                        names: names))
            }
        }

        /// A start time in the window, likelier in busy hours.
        mutating func time() -> Date {
            let start = configuration.start.timeIntervalSince1970
            let length = max(0, configuration.hours) * 3600
            let peak = Self.hourlyShape.max()!
            while true {
                let t = (start + dice.unit() * length).rounded(.down)
                let hour = (Int(((t + 8 * 3600) / 3600).rounded(.down)) % 24 + 24) % 24
                if dice.unit() * peak < Self.hourlyShape[hour] { return Date(timeIntervalSince1970: t) }
            }
        }
    }
}
