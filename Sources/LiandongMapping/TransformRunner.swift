import Foundation
import LiandongModel
import Synchronization

/// Runs one transform on one value for a mapping.
struct TransformRunner {
    var mapping: Mapping

    /// A transform refused a value.
    struct Refusal: Error {
        var rule: MappingFailure.Rule
        var message: String
    }

    func run(_ transform: TransformSpec, on value: FieldValue) throws(Refusal) -> FieldValue {
        switch transform {
        case .trim:
            guard let text = value.scalarText else { return value }
            return .string(text.trimmingWhitespace().nfc())
        case .number:
            guard let text = value.scalarText?.trimmingWhitespace(), let n = Double(text), n.isFinite else {
                throw Refusal(rule: .number, message: "not a number")
            }
            return .number(n)
        case .time(let pattern, let zoneName):
            guard let zone = Self.zone(named: zoneName) else {
                throw Refusal(rule: .time, message: "unknown time zone '\(zoneName)' in the mapping")
            }
            guard let text = value.scalarText, let date = TimeParser(pattern: pattern, zone: zone).parse(text) else {
                throw Refusal(rule: .time, message: "not a time of the form \(pattern)")
            }
            return .string(date.canonicalText)
        case .code(let listName, let crosswalk, let otherwise):
            guard let list = mapping.codeLists[listName] else {
                throw Refusal(rule: .code, message: "code list '\(listName)' is not in Mappings/codes/")
            }
            guard let text = value.scalarText, let code = list.canonicalCode(for: text, crosswalk: crosswalk) ?? otherwise else {
                throw Refusal(
                    rule: .code,
                    message: "not in code list '\(listName)'" + (crosswalk.map { " (crosswalk '\($0)')" } ?? ""))
            }
            return .string(code)
        case .coordinates(let crs):
            return try coordinates(value, crs: crs)
        case .division:
            guard let divisions = mapping.divisions else {
                throw Refusal(rule: .division, message: "no division list in Mappings/codes/")
            }
            guard let text = value.scalarText else { throw Refusal(rule: .division, message: "not a division code") }
            // An abolished code is kept as the source sent it; `Mapping` notes its successor beside it.
            switch divisions.normalize(text) {
            case .success(let division): return .string(division.code)
            case .failure(.malformed):
                throw Refusal(rule: .division, message: "a GB/T 2260 division code has 6, 9 or 12 digits")
            case .failure(.unknown(let revision)):
                throw Refusal(
                    rule: .division,
                    message: "not a division code in GB/T 2260 list \(revision), nor one abolished since an "
                        + "earlier list")
            }
        case .mask(let masking):
            guard let text = value.scalarText, let masked = masking.apply(text) else {
                throw Refusal(rule: .mask, message: "not a \(masking.rawValue) to mask")
            }
            return .string(masked)
        case .split(let separator):
            guard let text = value.scalarText else { return value }
            let parts = separator == " "
                ? text.split(whereSeparator: \.isWhitespace).map(String.init)
                : text.components(separatedBy: separator).filter { !$0.isEmpty }
            return .array(parts.map(FieldValue.string))
        case .part(let separator, let index):
            guard let text = value.scalarText else { return value }
            let parts = text.components(separatedBy: separator)
            guard index >= 0, index < parts.count else {
                throw Refusal(rule: .pattern, message: "has no part \(index) when split by '\(separator)'")
            }
            return .string(parts[index])
        case .allowed(let values):
            guard let text = value.scalarText, values.contains(text) else {
                throw Refusal(rule: .allowed, message: "not one of: \(values.joined(separator: ", "))")
            }
            return value
        case .pattern(let regex):
            guard let text = value.scalarText, text.range(of: "^(?:\(regex))$", options: .regularExpression) != nil else {
                throw Refusal(rule: .pattern, message: "does not match /\(regex)/")
            }
            return value
        }
    }

    private func coordinates(_ value: FieldValue, crs: CoordinateSystem) throws(Refusal) -> FieldValue {
        var latText: String?
        var lonText: String?
        if let object = value.objectValue {
            latText = object["lat"]?.scalarText
            lonText = object["lon"]?.scalarText
        } else if let text = value.scalarText {
            // "lat,lon" as CAP circles and points are written.
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 {
                latText = parts[0]
                lonText = parts[1]
            }
        }
        guard let latText, let lonText, let lat = Double(latText), let lon = Double(lonText),
            (-90...90).contains(lat), (-180...180).contains(lon)
        else {
            throw Refusal(rule: .coordinates, message: "not a latitude/longitude pair in range")
        }
        let original = GeoPoint(latitude: lat, longitude: lon)
        let wgs = CoordinateConverter.convert(original, from: crs, to: .wgs84)
        return .object([
            "lat": .number(Self.rounded(wgs.latitude)), "lon": .number(Self.rounded(wgs.longitude)), "crs": .string("wgs84"),
            "original": .object(["crs": .string(crs.rawValue), "lat": .number(lat), "lon": .number(lon)]),
        ])
    }

    /// Nine decimals (about 0.1 mm) keep canonical bytes stable across platforms' last-bit differences.
    private static func rounded(_ x: Double) -> Double { (x * 1e9).rounded() / 1e9 }

    /// Time zones by name, looked up once: `TimeZone(identifier:)` for every value of every record
    /// showed in profiles.
    private static let zones = Mutex<[String: TimeZone]>([:])

    static func zone(named name: String) -> TimeZone? {
        if let zone = zones.withLock({ $0[name] }) { return zone }
        guard let zone = TimeZone(identifier: name) else { return nil }
        zones.withLock { $0[name] = zone }
        return zone
    }
}
