import Foundation
import LiandongModel

/// 110 and 120 data that overlaps the 119 and 12345 data of the same seed, as real events do: a fire
/// reported to 119 is also called in to 110, a noise complaint to 12345 is transferred to 110, a
/// traffic accident reaches 110 and 120.
extension AgencyData {
    /// 110 tickets through 接警→派警→到场→处置→结警.
    public static func policeTickets(seed: UInt64, count: Int) -> SimulatedTimeline {
        var rng = SeededGenerator(seed: seed ^ 110)
        var tickets: [TicketSeed] = []
        // Every other firefighting or rescue alarm is also called in to 110, a minute or two later, from nearby.
        let alarms = firstVersions(fireAlarms(seed: seed, count: count)).filter { ["火灾扑救", "抢险救援"].contains($0["RWLX"]) }
        for (n, alarm) in alarms.enumerated() where n % 2 == 0 {
            guard let received = alarm["JJSJ"].flatMap(AgencySimulator.localDate), let place = place(of: alarm["XZQH"]) else { continue }
            let gcj = GeoPoint(latitude: Double(alarm["WD"] ?? "") ?? 0, longitude: Double(alarm["JD"] ?? "") ?? 0)
            let fire = alarm["RWLX"] == "火灾扑救"
            tickets.append(
                TicketSeed(
                    reported: received.addingTimeInterval(Double(30 + rng.next() % 90)), place: place,
                    point: jitter(CoordinateConverter.convert(gcj, from: .gcj02, to: .wgs84), metres: 60, &rng),
                    address: alarm["AFDZ"] ?? "", category: fire ? "求助" : "交通", sub: fire ? "火灾" : "交通事故", transferredFrom: nil))
        }
        // Every third noise complaint to 12345 is transferred to 110 as a public-order matter (Yunnan's
        // go through the 中间库 instead: this 110 does not answer them).
        let orders = firstVersions(hotlineWorkOrders(seed: seed, count: count)).filter {
            $0["matter"] == "噪音扰民" && place(of: $0["areaCode"]) != nil
        }
        for (n, order) in orders.enumerated() where n % 3 == 0 {
            guard let created = order["createTime"].flatMap(AgencySimulator.localDate), let place = place(of: order["areaCode"]) else {
                continue
            }
            let bd = GeoPoint(latitude: Double(order["latitude"] ?? "") ?? 0, longitude: Double(order["longitude"] ?? "") ?? 0)
            tickets.append(
                TicketSeed(
                    reported: created.addingTimeInterval(1800), place: place, point: CoordinateConverter.convert(bd, from: .bd09, to: .wgs84),
                    address: order["address"] ?? "", category: "治安", sub: "噪音", transferredFrom: order.id))
        }
        // And matters of its own.
        let own = [("刑事", "盗窃"), ("治安", "纠纷"), ("交通", "交通事故"), ("求助", "求助"), ("非警务", "咨询")]
        for n in 0..<max(1, count / 2) {
            let place = SimulatedPlace.all.randomElement(using: &rng)!
            let kind = own.randomElement(using: &rng)!
            tickets.append(
                TicketSeed(
                    reported: base.addingTimeInterval(Double(n) * 71 + Double(rng.next() % 50)), place: place,
                    point: jitter(GeoPoint(latitude: place.latitude, longitude: place.longitude), metres: 1500, &rng),
                    address: "\(place.name)某大街\(n % 250 + 1)号", category: kind.0, sub: kind.1, transferredFrom: nil))
        }
        let lifecycle = ["接警", "派警", "到场", "处置", "结警"]
        var versions: [SimulatedVersion] = []
        for (n, ticket) in tickets.sorted(by: { $0.reported < $1.reported }).enumerated() {
            let id = "110\(ticket.place.division)\(LocalTime.text(ticket.reported, compact: true).prefix(8))\(String(format: "%05d", n))"
            let injured = ticket.sub == "交通事故" ? Int(rng.next() % 3) : 0
            // A transferred matter is always handled to the end, so its feedback reaches 12345.
            let drawn = 1 + Int(rng.next() % UInt64(lifecycle.count))
            let steps = ticket.transferredFrom == nil ? drawn : lifecycle.count
            for step in 0..<steps {
                let updated = ticket.reported.addingTimeInterval(Double(step) * 420)
                var fields: [(String, String)] = [
                    ("接警单编号", id), ("报警时间", LocalTime.text(ticket.reported)), ("更新时间", LocalTime.text(updated)),
                    ("警情类别", ticket.category), ("警情细类", ticket.sub),
                    ("报警内容", "群众报警称\(ticket.address)发生\(ticket.sub)。"), ("案发地址", ticket.address),
                    ("行政区划", ticket.place.division), ("经度", String(format: "%.6f", ticket.point.longitude)),
                    ("纬度", String(format: "%.6f", ticket.point.latitude)),
                    ("报警人电话", "137\(String(format: "%08d", rng.next() % 100_000_000))"),
                    ("处警单位", "\(ticket.place.name.suffix(3))公安分局\(["巡警大队", "派出所", "交警大队"][n % 3])"),
                    ("警单状态", lifecycle[step]), ("死亡人数", "0"), ("受伤人数", "\(injured)"),
                ]
                if let from = ticket.transferredFrom { fields.append(("转办工单编号", from)) }
                if lifecycle[step] == "结警" { fields.append(("处警反馈", "民警到场处置完毕，现场已恢复正常。")) }
                versions.append(SimulatedVersion(id: id, updated: updated, fields: fields))
            }
        }
        return SimulatedTimeline(versions: versions.sorted { ($0.updated, $0.id) < ($1.updated, $1.id) })
    }

    /// 120 calls through 受理→派车→到达现场→送院→完成: the injured of 110's traffic accidents, and
    /// medical calls of their own.
    public static func ambulanceCalls(seed: UInt64, count: Int) -> SimulatedTimeline {
        var rng = SeededGenerator(seed: seed ^ 120)
        var calls: [CallSeed] = []
        let accidents = firstVersions(policeTickets(seed: seed, count: count))
            .filter { $0["警情细类"] == "交通事故" && $0["受伤人数"] != "0" }
        for accident in accidents {
            guard let reported = accident["报警时间"].flatMap(AgencySimulator.localDate), let place = place(of: accident["行政区划"]) else {
                continue
            }
            let point = GeoPoint(latitude: Double(accident["纬度"] ?? "") ?? 0, longitude: Double(accident["经度"] ?? "") ?? 0)
            calls.append(
                CallSeed(
                    reported: reported.addingTimeInterval(Double(60 + rng.next() % 120)), place: place,
                    point: jitter(point, metres: 40, &rng), address: accident["案发地址"] ?? "", reason: "车祸",
                    patients: Int(accident["受伤人数"] ?? "") ?? 1, ticket: rng.next() % 2 == 0 ? accident.id : nil))
        }
        for n in 0..<max(1, count / 2) {
            let place = SimulatedPlace.all.randomElement(using: &rng)!
            calls.append(
                CallSeed(
                    reported: base.addingTimeInterval(Double(n) * 97 + Double(rng.next() % 60)), place: place,
                    point: jitter(GeoPoint(latitude: place.latitude, longitude: place.longitude), metres: 1500, &rng),
                    address: "\(place.name)某小区\(n % 90 + 1)栋", reason: ["胸痛", "昏迷", "急症", "外伤"].randomElement(using: &rng)!,
                    patients: 1, ticket: nil))
        }
        let hospitals = ["市第一人民医院", "市中心医院", "区人民医院"]
        let stages: [(status: String, column: String?, after: Double)] = [
            ("受理", nil, 0), ("派车", "PCSJ", 90), ("到达现场", "DDSJ", 720), ("送院", "SYSJ", 1500), ("完成", nil, 2400),
        ]
        var versions: [SimulatedVersion] = []
        for (n, call) in calls.sorted(by: { $0.reported < $1.reported }).enumerated() {
            let id = "120\(LocalTime.text(call.reported, compact: true))\(String(format: "%04d", n))"
            let triage = call.reason == "车祸" || call.reason == "昏迷" ? "Ⅱ级" : "Ⅲ级"
            let patients = (0..<call.patients).map { p in "\(p % 2 == 0 ? "男" : "女"),\(25 + (n + p) % 50)岁,\(call.reason)" }
            var fields: [(String, String)] = [
                ("HJBH", id), ("HJSJ", LocalTime.text(call.reported)), ("HJYY", call.reason), ("FJ", triage),
                ("HZRS", "\(call.patients)"), ("HZQK", patients.joined(separator: ";")), ("XCDZ", call.address),
                ("XZQH", call.place.division), ("JD", String(format: "%.6f", call.point.longitude)),
                ("WD", String(format: "%.6f", call.point.latitude)), ("LDHM", "136\(String(format: "%08d", rng.next() % 100_000_000))"),
                ("GLJDBH", call.ticket ?? ""),
            ]
            let reached = 1 + Int(rng.next() % UInt64(stages.count))
            for stage in stages.prefix(reached) {
                let at = call.reported.addingTimeInterval(stage.after)
                if let column = stage.column { fields.append((column, LocalTime.text(at))) }
                if stage.status == "送院" { fields.append(("SDYY", hospitals[n % hospitals.count])) }
                let row = fields + [("ZT", stage.status), ("GXSJ", LocalTime.text(at))]
                versions.append(SimulatedVersion(id: id, updated: at, fields: row))
            }
        }
        return SimulatedTimeline(versions: versions.sorted { ($0.updated, $0.id) < ($1.updated, $1.id) })
    }

    struct TicketSeed {
        var reported: Date
        var place: SimulatedPlace
        var point: GeoPoint
        var address: String
        var category: String
        var sub: String
        var transferredFrom: String?
    }

    struct CallSeed {
        var reported: Date
        var place: SimulatedPlace
        var point: GeoPoint
        var address: String
        var reason: String
        var patients: Int
        var ticket: String?
    }

    /// The first version of every record, in the order they first appear.
    static func firstVersions(_ timeline: SimulatedTimeline) -> [SimulatedVersion] {
        var seen = Set<String>()
        return timeline.versions.filter { seen.insert($0.id).inserted }
    }

    static func place(of division: String?) -> SimulatedPlace? { SimulatedPlace.all.first { $0.division == division } }

    /// A point up to `metres` away in a random direction.
    static func jitter(_ point: GeoPoint, metres: Double, _ rng: inout SeededGenerator) -> GeoPoint {
        let d = Double(rng.next() % 1000) / 1000 * metres
        let angle = Double(rng.next() % 360) * .pi / 180
        return GeoPoint(
            latitude: point.latitude + d * cos(angle) / 111_320,
            longitude: point.longitude + d * sin(angle) / (111_320 * cos(point.latitude * .pi / 180)))
    }
}
