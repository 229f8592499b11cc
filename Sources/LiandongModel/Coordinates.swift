import Foundation

/// A point on the earth in one coordinate reference system.
public struct GeoPoint: Hashable, Sendable {
    public var latitude: Double
    public var longitude: Double
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// The coordinate systems agencies send: WGS-84 (also CGCS2000 for our purposes), GCJ-02 (most
/// Chinese web maps) and BD-09 (Baidu).
public enum CoordinateSystem: String, Sendable, CaseIterable, Codable {
    case wgs84
    case gcj02
    case bd09
}

/// Conversions between WGS-84, GCJ-02 and BD-09.
///
/// WGS-84 → GCJ-02 and GCJ-02 ↔ BD-09 are the published closed forms. GCJ-02 → WGS-84 has no
/// closed form: it is solved by fixed-point iteration on the forward transform until the point
/// moves less than 1e-12°, which agrees with independent implementations to better than 1e-9°.
/// Points outside China's bounding box are left unchanged by the GCJ-02 shift, as the forward
/// algorithm does. Written by hand: no Swift package on this machine implements GCJ-02.
public enum CoordinateConverter {
    static let a = 6_378_245.0
    static let ee = 0.006_693_421_622_965_943
    static let xPi = Double.pi * 3000.0 / 180.0

    /// Converts `point` from one system to another.
    public static func convert(_ point: GeoPoint, from: CoordinateSystem, to: CoordinateSystem) -> GeoPoint {
        if from == to { return point }
        let wgs: GeoPoint
        switch from {
        case .wgs84: wgs = point
        case .gcj02: wgs = gcj02ToWGS84(point)
        case .bd09: wgs = gcj02ToWGS84(bd09ToGCJ02(point))
        }
        switch to {
        case .wgs84: return wgs
        case .gcj02: return wgs84ToGCJ02(wgs)
        case .bd09: return gcj02ToBD09(wgs84ToGCJ02(wgs))
        }
    }

    /// Whether the GCJ-02 shift applies (the crude China bounding box used by every implementation).
    public static func isInsideChina(_ p: GeoPoint) -> Bool {
        p.longitude >= 72.004 && p.longitude <= 137.8347 && p.latitude >= 0.8293 && p.latitude <= 55.8271
    }

    /// WGS-84 → GCJ-02, closed form.
    public static func wgs84ToGCJ02(_ p: GeoPoint) -> GeoPoint {
        guard isInsideChina(p) else { return p }
        let (dLat, dLon) = delta(p)
        return GeoPoint(latitude: p.latitude + dLat, longitude: p.longitude + dLon)
    }

    /// GCJ-02 → WGS-84 by iterating the forward transform.
    public static func gcj02ToWGS84(_ p: GeoPoint) -> GeoPoint {
        guard isInsideChina(p) else { return p }
        var wgs = GeoPoint(latitude: p.latitude, longitude: p.longitude)
        for _ in 0..<30 {
            let forward = wgs84ToGCJ02(wgs)
            let dLat = forward.latitude - p.latitude
            let dLon = forward.longitude - p.longitude
            wgs.latitude -= dLat
            wgs.longitude -= dLon
            if abs(dLat) < 1e-12 && abs(dLon) < 1e-12 { break }
        }
        return wgs
    }

    /// GCJ-02 → BD-09, closed form.
    public static func gcj02ToBD09(_ p: GeoPoint) -> GeoPoint {
        let x = p.longitude
        let y = p.latitude
        let z = (x * x + y * y).squareRoot() + 0.00002 * sin(y * xPi)
        let theta = atan2(y, x) + 0.000003 * cos(x * xPi)
        return GeoPoint(latitude: z * sin(theta) + 0.006, longitude: z * cos(theta) + 0.0065)
    }

    /// BD-09 → GCJ-02 by iterating the forward transform (the closed form is off by ~1e-6°).
    public static func bd09ToGCJ02(_ p: GeoPoint) -> GeoPoint {
        var gcj = closedFormBD09ToGCJ02(p)
        for _ in 0..<30 {
            let forward = gcj02ToBD09(gcj)
            let dLat = forward.latitude - p.latitude
            let dLon = forward.longitude - p.longitude
            gcj.latitude -= dLat
            gcj.longitude -= dLon
            if abs(dLat) < 1e-12 && abs(dLon) < 1e-12 { break }
        }
        return gcj
    }

    /// The usual one-step BD-09 → GCJ-02 approximation.
    public static func closedFormBD09ToGCJ02(_ p: GeoPoint) -> GeoPoint {
        let x = p.longitude - 0.0065
        let y = p.latitude - 0.006
        let z = (x * x + y * y).squareRoot() - 0.00002 * sin(y * xPi)
        let theta = atan2(y, x) - 0.000003 * cos(x * xPi)
        return GeoPoint(latitude: z * sin(theta), longitude: z * cos(theta))
    }

    private static func delta(_ p: GeoPoint) -> (Double, Double) {
        let x = p.longitude - 105.0
        let y = p.latitude - 35.0
        var dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * abs(x).squareRoot()
        dLat += (20.0 * sin(6.0 * x * .pi) + 20.0 * sin(2.0 * x * .pi)) * 2.0 / 3.0
        dLat += (20.0 * sin(y * .pi) + 40.0 * sin(y / 3.0 * .pi)) * 2.0 / 3.0
        dLat += (160.0 * sin(y / 12.0 * .pi) + 320 * sin(y * .pi / 30.0)) * 2.0 / 3.0
        var dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * abs(x).squareRoot()
        dLon += (20.0 * sin(6.0 * x * .pi) + 20.0 * sin(2.0 * x * .pi)) * 2.0 / 3.0
        dLon += (20.0 * sin(x * .pi) + 40.0 * sin(x / 3.0 * .pi)) * 2.0 / 3.0
        dLon += (150.0 * sin(x / 12.0 * .pi) + 300.0 * sin(x / 30.0 * .pi)) * 2.0 / 3.0
        let radLat = p.latitude / 180.0 * .pi
        var magic = sin(radLat)
        magic = 1 - ee * magic * magic
        let sqrtMagic = magic.squareRoot()
        dLat = (dLat * 180.0) / ((a * (1 - ee)) / (magic * sqrtMagic) * .pi)
        dLon = (dLon * 180.0) / (a / sqrtMagic * cos(radLat) * .pi)
        return (dLat, dLon)
    }
}
