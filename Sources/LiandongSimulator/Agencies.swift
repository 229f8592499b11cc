import Foundation
import LiandongModel

/// Generates what each simulated agency holds, from a seed.
public enum AgencyData {
    static let base = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18, a fixed start

    /// 12345 work orders, each going through part of 登记→派单→签收→办理→办结→回访→归档.
    public static func hotlineWorkOrders(seed: UInt64, count: Int) -> SimulatedTimeline {
        var rng = SeededGenerator(seed: seed ^ 12345)
        let lifecycle = ["登记", "派单", "签收", "办理", "办结", "回访", "归档"]
        let appeals = [("投诉", "噪音扰民"), ("求助", "道路积水"), ("咨询", "社保办理"), ("举报", "违章建筑"), ("建议", "公交线路")]
        var versions: [SimulatedVersion] = []
        for n in 0..<count {
            // Every twelfth order is a noise complaint from Kunming: a police matter for the 中间库.
            let yunnan = n % 12 == 11
            let drawn = (place: SimulatedPlace.all.randomElement(using: &rng)!, appeal: appeals.randomElement(using: &rng)!)
            let place = yunnan ? SimulatedPlace.kunming : drawn.place
            let appeal = yunnan ? appeals[0] : drawn.appeal
            let created = base.addingTimeInterval(Double(n) * 37 + Double(rng.next() % 30))
            let phone = "1\([3, 5, 8].randomElement(using: &rng)!)\(String(format: "%09d", rng.next() % 1_000_000_000))"
            let wgs = GeoPoint(
                latitude: place.latitude + Double(rng.next() % 2000) / 100_000 - 0.01,
                longitude: place.longitude + Double(rng.next() % 2000) / 100_000 - 0.01)
            let bd = CoordinateConverter.convert(wgs, from: .wgs84, to: .bd09)
            let id = "GD\(LocalTime.text(created, compact: true).prefix(8))\(String(format: "%06d", n))"
            let steps = 1 + Int(rng.next() % UInt64(lifecycle.count))
            for step in 0..<steps {
                let updated = created.addingTimeInterval(Double(step) * 600)
                versions.append(
                    SimulatedVersion(
                        id: id, updated: updated,
                        fields: [
                            ("orderNo", id), ("appealType", appeal.0), ("matter", appeal.1), ("status", lifecycle[step]),
                            ("title", "\(place.name)\(appeal.1)"), ("content", "市民反映\(place.name)\(appeal.1)问题，请尽快处理。"),
                            ("citizenPhone", phone), ("address", "\(place.name)某街道\(n % 200 + 1)号"),
                            ("areaCode", place.division), ("longitude", String(format: "%.6f", bd.longitude)),
                            ("latitude", String(format: "%.6f", bd.latitude)),
                            ("createTime", LocalTime.text(created)),
                            ("deadline", LocalTime.text(created.addingTimeInterval(3 * 86_400))),
                            ("updateTime", LocalTime.text(updated)),
                        ]))
            }
        }
        return SimulatedTimeline(versions: versions.sorted { ($0.updated, $0.id) < ($1.updated, $1.id) })
    }

    /// 119 alarms with their timeline 接警→出动→到场→控制→扑灭→归队.
    public static func fireAlarms(seed: UInt64, count: Int) -> SimulatedTimeline {
        var rng = SeededGenerator(seed: seed ^ 119)
        let tasks = ["火灾扑救", "抢险救援", "社会救助", "安保勤务", "虚假警"]
        let stages = [
            ("CDSJ", 120.0, "出动"), ("DCSJ", 600.0, "到场"), ("KZSJ", 1800.0, "控制"), ("PMSJ", 2700.0, "扑灭"), ("GDSJ", 4200.0, "归队"),
        ]
        var versions: [SimulatedVersion] = []
        for n in 0..<count {
            let place = SimulatedPlace.all.randomElement(using: &rng)!
            let received = base.addingTimeInterval(Double(n) * 53 + Double(rng.next() % 40))
            let wgs = GeoPoint(
                latitude: place.latitude + Double(rng.next() % 2000) / 100_000 - 0.01,
                longitude: place.longitude + Double(rng.next() % 2000) / 100_000 - 0.01)
            let gcj = CoordinateConverter.convert(wgs, from: .wgs84, to: .gcj02)
            let id = "JJ\(place.division)\(LocalTime.text(received, compact: true).prefix(8))\(String(format: "%05d", n))"
            let task = tasks.randomElement(using: &rng)!
            let squads = 1 + Int(rng.next() % 3)
            var fields: [(String, String)] = [
                ("JJBH", id), ("JJSJ", LocalTime.text(received)), ("AFDZ", "\(place.name)某路\(n % 300 + 1)号"),
                ("XZQH", place.division), ("RWLX", task), ("JD", String(format: "%.6f", gcj.longitude)),
                ("WD", String(format: "%.6f", gcj.latitude)), ("BJDH", "139\(String(format: "%08d", rng.next() % 100_000_000))"),
                ("CDDW", (1...squads).map { "\(place.name.suffix(3))消防救援站\($0)" }.joined(separator: ";")),
            ]
            let reached = Int(rng.next() % UInt64(stages.count + 1))
            versions.append(
                SimulatedVersion(id: id, updated: received, fields: fields + [("ZT", "接警"), ("GXSJ", LocalTime.text(received))]))
            for stage in stages.prefix(reached) {
                let at = received.addingTimeInterval(stage.1)
                fields.append((stage.0, LocalTime.text(at)))
                versions.append(SimulatedVersion(id: id, updated: at, fields: fields + [("ZT", stage.2), ("GXSJ", LocalTime.text(at))]))
            }
        }
        return SimulatedTimeline(versions: versions.sorted { ($0.updated, $0.id) < ($1.updated, $1.id) })
    }

    /// CAP 1.2 warnings in the Chinese profile: alerts, some updated, some cancelled.
    public static func weatherWarnings(seed: UInt64, count: Int) -> SimulatedTimeline {
        var rng = SeededGenerator(seed: seed ^ 0xCA9)
        let events = [("暴雨", "11B03"), ("大风", "11B06"), ("雷电", "11B14"), ("高温", "11B09"), ("寒潮", "11B05")]
        let colours = [("蓝色", "Minor"), ("黄色", "Moderate"), ("橙色", "Severe"), ("红色", "Extreme")]
        var versions: [SimulatedVersion] = []
        for n in 0..<count {
            let place = SimulatedPlace.all.randomElement(using: &rng)!
            let event = events.randomElement(using: &rng)!
            var colour = colours.randomElement(using: &rng)!
            let sent = base.addingTimeInterval(Double(n) * 900 + Double(rng.next() % 120))
            let sender = "\(place.division)41600000"
            let identifier = "\(sender)_\(LocalTime.text(sent, compact: true))"
            func alert(_ id: String, _ at: Date, _ type: String, _ refs: String?, _ colour: (String, String)) -> SimulatedVersion {
                var fields: [(String, String)] = [
                    ("identifier", id), ("sender", sender), ("sent", at.capText), ("msgType", type),
                    ("event", event.0), ("eventCode", event.1), ("severity", colour.1),
                    ("headline", "\(place.name)气象台发布\(event.0)\(colour.0)预警信号"),
                    ("description", "\(place.name)气象台\(LocalTime.text(at))发布\(event.0)\(colour.0)预警信号，请注意防范。"),
                    ("effective", at.capText), ("expires", at.addingTimeInterval(86_400 * 3650).capText),
                    ("areaDesc", place.name), ("geocode", place.division),
                ]
                if let refs { fields.append(("references", refs)) }
                return SimulatedVersion(id: id, updated: at, fields: fields)
            }
            versions.append(alert(identifier, sent, "Alert", nil, colour))
            switch rng.next() % 3 {
            case 0:
                let at = sent.addingTimeInterval(3600)
                colour = colours[min(colours.count - 1, colours.firstIndex { $0.0 == colour.0 }! + 1)]
                versions.append(
                    alert("\(sender)_\(LocalTime.text(at, compact: true))", at, "Update", "\(sender),\(identifier),\(sent.capText)", colour))
            case 1:
                let at = sent.addingTimeInterval(7200)
                versions.append(
                    alert("\(sender)_\(LocalTime.text(at, compact: true))", at, "Cancel", "\(sender),\(identifier),\(sent.capText)", colour))
            default: break
            }
        }
        return SimulatedTimeline(versions: versions.sorted { ($0.updated, $0.id) < ($1.updated, $1.id) })
    }
}

extension Date {
    /// CAP's time form: local time with an explicit +08:00 offset.
    var capText: String { LocalTime.text(self).replacingOccurrences(of: " ", with: "T") + "+08:00" }
}
