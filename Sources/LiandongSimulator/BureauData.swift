import Foundation
import LiandongModel

/// What the emergency bureau holds, overlapping the 119 data of the same seed: the bigger fires and
/// rescues 119 fought are reported up as emergencies (naming the alarm), beside natural disasters of
/// the bureau's own; instructions about the graver ones go to 119, 110 and 12345; and the resource
/// registers list teams, equipment, stocks, experts and shelters.
extension AgencyData {
    /// Emergency reports through 初报→续报→终报, graded and given a response level.
    public static func bureauIncidents(seed: UInt64, count: Int) -> SimulatedTimeline {
        SimulatedTimeline(versions: bureauEvents(seed: seed, count: count).flatMap(\.versions).sorted { ($0.updated, $0.id) < ($1.updated, $1.id) })
    }

    /// One instruction for every event graded III (较大) or above, addressed to the units that must act.
    public static func bureauInstructions(seed: UInt64, count: Int) -> SimulatedTimeline {
        var versions: [SimulatedVersion] = []
        for (n, event) in bureauEvents(seed: seed, count: count).enumerated() where event.grade <= 3 {
            let issued = event.reported.addingTimeInterval(900)
            let id = "ZL\(LocalTime.text(issued, compact: true))\(String(format: "%03d", n))"
            let units = event.category == "自然灾害" ? "市消防救援支队;市公安局指挥中心;市12345热线" : "市消防救援支队;市公安局指挥中心"
            versions.append(
                SimulatedVersion(
                    id: id, updated: issued,
                    fields: [
                        ("ZLBH", id), ("ZLBT", "关于做好\(event.place.name)\(event.type)应急处置工作的指令"),
                        ("ZLNR", "请立即组织力量赶赴\(event.address)开展处置，做好人员搜救和群众转移安置，并于时限内反馈处置情况。"),
                        ("XFSJ", LocalTime.text(issued)), ("XFDW", "市应急管理局"), ("JSDW", units),
                        ("FKSX", LocalTime.text(issued.addingTimeInterval(7200))), ("GLSJBH", event.id), ("GXSJ", LocalTime.text(issued)),
                    ]))
        }
        return SimulatedTimeline(versions: versions.sorted { ($0.updated, $0.id) < ($1.updated, $1.id) })
    }

    /// The resource registers: `count` entries of the five kinds, some updated once (stock drawn, status changed).
    public static func bureauResources(seed: UInt64, count: Int) -> SimulatedTimeline {
        var rng = SeededGenerator(seed: seed ^ 0x2E5)
        let kinds: [(type: String, names: [String], unit: String, specialty: String)] = [
            ("01", ["综合应急救援队", "森林消防队", "矿山救护队", "水上搜救队"], "人", "综合救援"),
            ("02", ["排涝泵车", "大功率发电机", "生命探测仪", "冲锋舟"], "台", ""),
            ("03", ["帐篷", "棉被", "折叠床", "饮用水"], "件", ""),
            ("04", ["地质灾害专家", "危化品专家", "水利专家", "医疗救援专家"], "人", "应急管理"),
            ("05", ["中心公园避难场所", "体育馆避难场所", "学校操场避难场所"], "人", ""),
        ]
        var versions: [SimulatedVersion] = []
        for n in 0..<count {
            let kind = kinds[n % kinds.count]
            let place = SimulatedPlace.all.randomElement(using: &rng)!
            let id = "ZY\(kind.type)\(place.division)\(String(format: "%05d", n))"
            let created = base.addingTimeInterval(Double(n) * 13)
            let point = jitter(GeoPoint(latitude: place.latitude, longitude: place.longitude), metres: 3000, &rng)
            var quantity = 10 + Int(rng.next() % 500)
            func version(_ at: Date, status: String) -> SimulatedVersion {
                SimulatedVersion(
                    id: id, updated: at,
                    fields: [
                        ("ZYBH", id), ("ZYLX", kind.type), ("ZYMC", "\(place.name)\(kind.names.randomElement(using: &rng)!)"),
                        ("SL", "\(quantity)"), ("JLDW", kind.unit), ("ZY", kind.specialty), ("ZT", status),
                        ("SSDW", "\(place.name)应急管理局"), ("DZ", "\(place.name)某路\(n % 100 + 1)号"), ("XZQH", place.division),
                        ("JD", String(format: "%.6f", point.longitude)), ("WD", String(format: "%.6f", point.latitude)),
                        ("LXR", ["张", "王", "李", "赵"][n % 4] + "工"), ("LXDH", "139\(String(format: "%08d", (n * 7_919) % 100_000_000))"),
                        ("GXSJ", LocalTime.text(at)),
                    ])
            }
            versions.append(version(created, status: "可用"))
            if n % 3 == 0 {
                quantity /= 2
                versions.append(version(created.addingTimeInterval(3600), status: "在用"))
            }
        }
        return SimulatedTimeline(versions: versions.sorted { ($0.updated, $0.id) < ($1.updated, $1.id) })
    }

    /// An emergency as the bureau tracks it, with the versions its reports go through.
    struct BureauEvent {
        var id: String
        var reported: Date
        var place: SimulatedPlace
        var address: String
        var category: String
        var type: String
        var grade: Int
        var versions: [SimulatedVersion]
    }

    static func bureauEvents(seed: UInt64, count: Int) -> [BureauEvent] {
        var rng = SeededGenerator(seed: seed ^ 0xB0E)
        var seeds: [(reported: Date, place: SimulatedPlace, point: GeoPoint, address: String, category: String, type: String,
                     code: String, alarm: String?)] = []
        // Every third fire or rescue 119 fought is reported up, naming the alarm.
        let alarms = firstVersions(fireAlarms(seed: seed, count: count)).filter { ["火灾扑救", "抢险救援"].contains($0["RWLX"]) }
        for (n, alarm) in alarms.enumerated() where n % 3 == 0 {
            guard let received = alarm["JJSJ"].flatMap(AgencySimulator.localDate), let place = place(of: alarm["XZQH"]) else { continue }
            let gcj = GeoPoint(latitude: Double(alarm["WD"] ?? "") ?? 0, longitude: Double(alarm["JD"] ?? "") ?? 0)
            let fire = alarm["RWLX"] == "火灾扑救"
            seeds.append(
                (received.addingTimeInterval(600), place, jitter(CoordinateConverter.convert(gcj, from: .gcj02, to: .wgs84), metres: 50, &rng),
                 alarm["AFDZ"] ?? "", "事故灾难", fire ? "火灾事故" : "建筑施工事故", fire ? "21B06" : "21A03", alarm.id))
        }
        // And natural disasters of its own.
        let disasters = [("洪涝灾害", "11A01"), ("地质灾害", "11D01"), ("城市内涝", "11A04")]
        for n in 0..<max(1, count / 5) {
            let place = SimulatedPlace.all.randomElement(using: &rng)!
            let disaster = disasters.randomElement(using: &rng)!
            seeds.append(
                (base.addingTimeInterval(Double(n) * 1_800 + Double(rng.next() % 600)), place,
                 jitter(GeoPoint(latitude: place.latitude, longitude: place.longitude), metres: 2000, &rng),
                 "\(place.name)某镇\(n % 20 + 1)村", "自然灾害", disaster.0, disaster.1, nil))
        }
        let grades = ["Ⅰ级", "Ⅱ级", "Ⅲ级", "Ⅳ级"]
        let stages = ["初报", "续报", "终报"]
        var events: [BureauEvent] = []
        for (n, s) in seeds.sorted(by: { $0.reported < $1.reported }).enumerated() {
            let id = "SJ\(s.place.division)\(LocalTime.text(s.reported, compact: true).prefix(8))\(String(format: "%04d", n))"
            // Mostly 一般 (IV); one in four 较大 (III), one in twelve 重大 (II).
            let grade = n % 12 == 5 ? 2 : n % 4 == 1 ? 3 : 4
            let reachedStages = 1 + Int(rng.next() % UInt64(stages.count))
            var injured = Int(rng.next() % 4)
            var versions: [SimulatedVersion] = []
            for stage in 0..<reachedStages {
                let at = s.reported.addingTimeInterval(Double(stage) * 1_800)
                injured += stage
                var fields: [(String, String)] = [
                    ("SJBH", id), ("SJMC", "\(s.place.name)\(s.type)"), ("SJFL", s.category), ("SJLX", s.type), ("SJLXDM", s.code),
                    ("SJDJ", grades[grade - 1]), ("XYJB", grades[grade - 1]), ("BSJD", stages[stage]),
                    ("FSSJ", LocalTime.text(s.reported.addingTimeInterval(-300))), ("FSDD", s.address), ("XZQH", s.place.division),
                    ("JD", String(format: "%.6f", s.point.longitude)), ("WD", String(format: "%.6f", s.point.latitude)),
                    ("SWRS", grade <= 2 ? "\(stage + 1)" : "0"), ("SSRS", "\(injured)"), ("SZRS", "0"),
                    ("SJGY", "\(s.address)发生\(s.type)，\(stages[stage])：现场处置进行中。"), ("TBDW", "\(s.place.name)应急管理局"),
                    ("GXSJ", LocalTime.text(at)),
                ]
                if let alarm = s.alarm { fields.append(("GLJQBH", alarm)) }
                versions.append(SimulatedVersion(id: id, updated: at, fields: fields))
            }
            events.append(
                BureauEvent(
                    id: id, reported: s.reported, place: s.place, address: s.address, category: s.category, type: s.type, grade: grade,
                    versions: versions))
        }
        return events
    }
}
