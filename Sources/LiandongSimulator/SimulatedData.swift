import Foundation
import LiandongModel

/// A deterministic random number generator (SplitMix64), so a seed always yields the same agency data.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Places the simulators use: real GB/T 2260 county codes with a WGS-84 centre.
struct SimulatedPlace: Sendable {
    var division: String
    var name: String
    var latitude: Double
    var longitude: Double

    static let all: [SimulatedPlace] = [
        .init(division: "110105", name: "北京市朝阳区", latitude: 39.9219, longitude: 116.4431),
        .init(division: "110101", name: "北京市东城区", latitude: 39.9288, longitude: 116.4160),
        .init(division: "310101", name: "上海市黄浦区", latitude: 31.2317, longitude: 121.4846),
        .init(division: "320102", name: "南京市玄武区", latitude: 32.0487, longitude: 118.7978),
        .init(division: "440106", name: "广州市天河区", latitude: 23.1246, longitude: 113.3612),
        .init(division: "130132", name: "石家庄市元氏县", latitude: 37.7667, longitude: 114.5258),
    ]

    /// A place in Yunnan, where 12345 and 110 exchange through a shared database (the 中间库) rather
    /// than APIs: only 12345 has matters here, and 110 answers them through that database.
    static let kunming = SimulatedPlace(division: "530102", name: "昆明市五华区", latitude: 25.0430, longitude: 102.7070)
}

/// Formats times as agencies write them: local Asia/Shanghai time with no zone.
enum LocalTime {
    static func text(_ date: Date, compact: Bool = false) -> String {
        // Asia/Shanghai keeps no daylight saving: local time is UTC + 8 h, in whole seconds.
        let local = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down) + 8 * 3600).canonicalText
        let text = local.dropLast().replacingOccurrences(of: "T", with: " ")  // drop the "Z"
        return compact ? text.filter(\.isNumber) : text
    }
}

/// One version of one record as an agency holds it: the record's id, when this version was made,
/// and the fields of that version.
public struct SimulatedVersion: Sendable {
    public var id: String
    public var updated: Date
    public var fields: [(String, String)]

    /// The value of a field of this version.
    public subscript(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
}

/// The versions an agency's records go through, in the order the agency makes them. Which ones a
/// client sees depends on how many have been released (all, or a growing number in live mode).
public struct SimulatedTimeline: Sendable {
    public var versions: [SimulatedVersion]

    /// The same versions with every `n`-th one released after the next (when that one is of another
    /// record and later): committed late, behind a version already visible.
    func committingLate(every n: Int) -> SimulatedTimeline {
        var versions = self.versions
        for index in stride(from: n - 1, to: versions.count - 1, by: n)
        where versions[index].id != versions[index + 1].id && versions[index].updated < versions[index + 1].updated {
            versions.swapAt(index, index + 1)
        }
        return SimulatedTimeline(versions: versions)
    }

    /// The latest released version of every record, ordered by (update time, id), after a cursor.
    func latest(released: Int, after cursor: (Date, String)?) -> [SimulatedVersion] {
        var latest: [String: SimulatedVersion] = [:]
        for version in versions.prefix(released) { latest[version.id] = version }
        return latest.values
            .filter { v in
                guard let cursor else { return true }
                return (v.updated, v.id) > cursor
            }
            .sorted { ($0.updated, $0.id) < ($1.updated, $1.id) }
    }
}

