import Foundation
import LiandongModel

// Places, addresses and the one function that writes a report in its agency's fields.

extension CityDay {
    /// Where an event happens: the true point (WGS-84) and the words callers use for it.
    struct Place {
        var district: City.District
        var point: GeoPoint
        var street: String
        var number: Int
        var crossing: String
        var side: String
        var landmark: String
    }

    /// A commercial centre, station or old quarter where many unrelated events happen.
    struct Hotspot {
        var district: City.District
        var point: GeoPoint
        var street: String
        var landmark: String
    }
}

extension CityDay.Generator {
    typealias City = CityDay.City
    typealias Place = CityDay.Place
    typealias Hotspot = CityDay.Hotspot

    static let hotspotKinds = [
        "商业广场", "火车站", "步行街", "地铁站", "老街", "农贸市场", "汽车站", "万达广场", "体育中心", "夜市", "大学城", "人民医院",
    ]
    static let buildings = ["小区", "花园", "大厦", "商场", "新村", "公寓", "中学", "菜市场", "酒店", "写字楼"]
    static let sides = ["东侧", "西侧", "南侧", "北侧", "东北角", "西南角"]

    /// The city's hotspots: within 2.5 km of a district centre (busier districts likelier), on a
    /// street, named after it. Drawn from their own seed, so they stay put when volumes change.
    static func makeHotspots(_ count: Int, in city: City, seed: UInt64) -> [Hotspot] {
        var dice = Dice(seed: seed ^ 0x686F_7473_706F_7473)  // "hotspots"
        var spots: [Hotspot] = []
        for n in 0..<max(0, count) {
            let district = dice.pick(city.districts, weight: { $0.population })!
            let street = dice.pick(city.streets)!
            let distance = 2500 * dice.unit().squareRoot()
            let point = dice.move(district.centre, metres: distance)
            spots.append(
                Hotspot(
                    district: district, point: point, street: street,
                    landmark: stem(street) + hotspotKinds[n % hotspotKinds.count]))
        }
        return spots
    }

    /// The name a street lends to buildings: 五一北路 → 五一, 天府大道 → 天府, 东街 stays.
    static func stem(_ street: String) -> String {
        var name = street
        for suffix in ["大道", "大街", "路", "街"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
            break
        }
        if name.count > 2, let last = name.last, "东南西北中".contains(last) { name.removeLast() }
        return name.count >= 2 ? name : street
    }

    /// Where a new event happens: near a hotspot (`hotspotShare`), else in a district by population.
    mutating func place() -> Place {
        let city = configuration.city
        var street = dice.pick(city.streets)!
        var landmark = Self.stem(dice.pick(city.streets)!) + dice.pick(Self.buildings)!
        let district: City.District
        let point: GeoPoint
        if !hotspots.isEmpty, dice.chance(configuration.hotspotShare) {
            let spot = dice.pick(hotspots)!
            let distance = configuration.hotspotRadius * dice.unit().squareRoot()
            district = spot.district
            point = dice.move(spot.point, metres: distance)
            if dice.chance(0.6) { street = spot.street }
            if dice.chance(0.5) { landmark = spot.landmark }
        } else {
            district = dice.pick(city.districts, weight: { $0.population })!
            let distance = 3000 * dice.unit().squareRoot()
            point = dice.move(district.centre, metres: distance)
        }
        let crossing = dice.pick(city.streets.filter { $0 != street }) ?? street
        let number = dice.int(1...400)
        let side = dice.pick(Self.sides)!
        return Place(
            district: district, point: point, street: street, number: number, crossing: crossing, side: side,
            landmark: landmark)
    }

    /// A place as one call taker writes it.
    mutating func address(of place: Place, _ style: CityDay.AddressStyle) -> String {
        switch style {
        case .full: return "\(configuration.city.name)\(place.district.name)\(place.street)\(place.number)号"
        case .near: return "\(place.street)\(place.number)号附近"
        case .crossing: return "\(place.street)与\(place.crossing)交叉口\(place.side)"
        case .building: return "\(place.district.name)\(place.landmark)\(dice.pick(["", "门口", "旁", "对面"])!)"
        }
    }

    /// A report's first version, in the fields its agency's format and mapping name, with the
    /// agency's record `target` names when it carries a link.
    mutating func fields(of draft: Draft, in event: Event, naming target: String?) -> [(String, String)] {
        let district = event.place.district
        let time = LocalTime.text(draft.reported)
        let point = CoordinateConverter.convert(draft.point, from: .wgs84, to: draft.agency.crs)
        let longitude = String(format: "%.6f", point.longitude)
        let latitude = String(format: "%.6f", point.latitude)
        let (type, detail, address) = (draft.words.type, draft.words.detail, draft.address)
        let phone = dice.phone()
        var fields: [(String, String)]
        switch draft.agency {
        case .hotline:
            // Requests for help are due in a day, everything else in five.
            let deadline = draft.reported.addingTimeInterval(type == "求助" ? 86_400 : 5 * 86_400)
            fields = [
                ("orderNo", draft.id), ("appealType", type), ("matter", detail), ("status", "登记"),
                ("title", "\(district.name)\(detail)"), ("content", "市民来电反映：\(address)，\(detail)问题，请相关单位核实处理。"),
                ("citizenPhone", phone), ("address", address), ("areaCode", district.code), ("longitude", longitude),
                ("latitude", latitude), ("createTime", time), ("deadline", LocalTime.text(deadline)),
                ("updateTime", time),
            ]
        case .police:
            fields = [
                ("接警单编号", draft.id), ("报警时间", time), ("更新时间", time), ("警情类别", type), ("警情细类", detail),
                ("报警内容", "报警人称：\(address)，\(detail)，请求处置。"), ("案发地址", address), ("行政区划", district.code),
                ("经度", longitude), ("纬度", latitude), ("报警人电话", phone), ("处警单位", "\(district.name)公安分局"),
                ("警单状态", "接警"), ("死亡人数", "0"), ("受伤人数", "\(event.casualties)"),
            ]
        case .fire:
            fields = [
                ("JJBH", draft.id), ("JJSJ", time), ("AFDZ", address), ("XZQH", district.code), ("RWLX", type),
                ("JD", longitude), ("WD", latitude), ("BJDH", phone), ("CDDW", "\(district.name)消防救援站"), ("ZT", "接警"),
                ("GXSJ", time),
            ]
        case .ambulance:
            let count = max(1, event.casualties)
            var patients: [String] = []
            for _ in 0..<count {
                let sex = dice.chance(0.5) ? "男" : "女"
                let age = dice.int(18...85)
                patients.append("\(sex),\(age)岁,\(type)")
            }
            fields = [
                ("HJBH", draft.id), ("HJSJ", time), ("HJYY", type), ("FJ", detail), ("HZRS", "\(count)"),
                ("HZQK", patients.joined(separator: ";")), ("XCDZ", address), ("XZQH", district.code),
                ("JD", longitude),
                ("WD", latitude), ("LDHM", phone), ("ZT", "受理"), ("GXSJ", time),
            ]
        }
        if let target, let field = draft.agency.linkField { fields.append((field, target)) }
        return fields
    }
}

/// Random choices from a `SeededGenerator`, spelled out (not the standard library's `random(in:)`),
/// so that a seed gives the same day on every platform and Swift version.
struct Dice {
    var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    /// A number in [0, 1).
    mutating func unit() -> Double { Double(generator.next() >> 11) * 0x1p-53 }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// A number in `range`, evenly.
    mutating func range(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    /// An integer in `range`, evenly.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(generator.next() % UInt64(range.count))
    }

    /// One of `items`, evenly; nil when there are none.
    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(generator.next() % UInt64(items.count))]
    }

    /// One of `items` in proportion to `weight`; nil when there are none.
    mutating func pick<T>(_ items: [T], weight: (T) -> Double) -> T? {
        let total = items.reduce(0) { $0 + max(0, weight($1)) }
        guard total > 0 else { return pick(items) }
        var rest = unit() * total
        for item in items {
            rest -= max(0, weight(item))
            if rest < 0 { return item }
        }
        return items.last
    }

    /// A point `metres` from `point` in a random direction.
    mutating func move(_ point: GeoPoint, metres: Double) -> GeoPoint {
        let angle = unit() * 2 * .pi
        return GeoPoint(
            latitude: point.latitude + metres * cos(angle) / 111_320,
            longitude: point.longitude + metres * sin(angle) / (111_320 * cos(point.latitude * .pi / 180)))
    }

    /// A mainland mobile number.
    mutating func phone() -> String {
        let prefix = pick([
            "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "176", "177",
            "180", "186", "187", "188", "189", "199",
        ])!
        return prefix + String(format: "%08d", Int(generator.next() % 100_000_000))
    }
}
