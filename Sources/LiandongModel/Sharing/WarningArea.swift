import Foundation

/// Where a warning holds, read from its CAP areas (`info[].areas[]`, as the CAP mapping writes
/// them): polygons (`lat,lon lat,lon …`, WGS-84), circles (`lat,lon radius-km`) and GB/T 2260
/// geocodes. An area drawn with a polygon or circle covers what lies inside the shape; an area
/// given only by its divisions covers every place in them (a county's code covers the county; a
/// city's, `360400`, every county of the city). Used to call out the monitors of the hazard points
/// a geological warning covers.
public struct WarningArea: Sendable {
    /// One `<area>`: its shapes, and its divisions when it has no shape.
    struct Part: Sendable {
        var polygons: [[(lat: Double, lon: Double)]]
        var circles: [(lat: Double, lon: Double, radiusKm: Double)]
        var divisions: [String]
    }

    var parts: [Part]

    /// The area of a warning with these canonical fields.
    public init(warning fields: [String: FieldValue]) {
        let areas = (fields["info"]?.arrayValue ?? []).flatMap { $0.objectValue?["areas"]?.arrayValue ?? [] }.compactMap(\.objectValue)
        parts = areas.map { area in
            let texts = { (key: String) in area[key]?.arrayValue?.compactMap(\.scalarText) ?? [] }
            let polygons = texts("polygons").map(Self.points).filter { $0.count >= 4 }
            let circles = texts("circles").compactMap { text -> (lat: Double, lon: Double, radiusKm: Double)? in
                let parts = text.split(separator: " ")
                guard parts.count == 2, let centre = Self.points(String(parts[0])).first, let radius = Double(parts[1]) else { return nil }
                return (centre.lat, centre.lon, radius)
            }
            let geocodes = (area["geocodes"]?.arrayValue ?? []).compactMap { $0.objectValue?["value"]?.scalarText }
            return Part(polygons: polygons, circles: circles, divisions: geocodes.filter { $0.allSatisfy(\.isNumber) })
        }
    }

    /// Whether the area covers a place at (`lat`, `lon`) in division `division` (a 6-digit county code).
    public func covers(lat: Double?, lon: Double?, division: String?) -> Bool {
        parts.contains { part in
            if !part.polygons.isEmpty || !part.circles.isEmpty {
                guard let lat, let lon else { return false }
                return part.polygons.contains { Self.contains($0, lat: lat, lon: lon) }
                    || part.circles.contains { Self.kilometres(from: ($0.lat, $0.lon), to: (lat, lon)) <= $0.radiusKm }
            }
            guard let division else { return false }
            return part.divisions.contains { code in
                var prefix = Substring(code.prefix(6))
                while prefix.hasSuffix("00"), prefix.count > 2 { prefix = prefix.dropLast(2) }
                return division.hasPrefix(prefix)
            }
        }
    }

    /// `lat,lon lat,lon …`.
    static func points(_ text: String) -> [(lat: Double, lon: Double)] {
        text.split(separator: " ").compactMap { pair in
            let numbers = pair.split(separator: ",").compactMap { Double($0) }
            return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
        }
    }

    /// Ray casting: whether the point lies inside the ring (edges count as inside on one side only,
    /// as usual; a hazard point never sits exactly on a warning's edge in practice).
    static func contains(_ ring: [(lat: Double, lon: Double)], lat: Double, lon: Double) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in ring.indices {
            let (a, b) = (ring[i], ring[j])
            if (a.lat > lat) != (b.lat > lat), lon < (b.lon - a.lon) * (lat - a.lat) / (b.lat - a.lat) + a.lon { inside.toggle() }
            j = i
        }
        return inside
    }

    /// Great-circle distance.
    static func kilometres(from a: (Double, Double), to b: (Double, Double)) -> Double {
        let radians = Double.pi / 180
        let dLat = (b.0 - a.0) * radians
        let dLon = (b.1 - a.1) * radians
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(a.0 * radians) * cos(b.0 * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * 6371.0088 * asin(min(1, sqrt(h)))
    }
}
