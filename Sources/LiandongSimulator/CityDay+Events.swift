import Foundation
import LiandongModel

// What happens in a city day, as one table: each kind of event, how often, and how each agency that
// hears of it words it. The words are the agencies' own: the crosswalks of
// `Mappings/codes/incident-type.yaml` translate most of them, and some they do not know, as in real
// data (110's 可疑人员, 醉酒, 开锁, 交通堵塞; 120's 腹痛, 发热, 呼吸困难, 脑卒中, 跌倒, 孕产).

extension CityDay {
    /// The four agencies of a city day and how each writes what it hears.
    enum Agency: String, CaseIterable, Sendable {
        case hotline = "hotline-12345"
        case police = "police-110"
        case ambulance = "ambulance-120"
        case fire = "fire-119"

        /// Reports per six hours in a configuration.
        func volume(in configuration: Configuration) -> Int {
            switch self {
            case .hotline: return configuration.hotline
            case .police: return configuration.police
            case .ambulance: return configuration.ambulance
            case .fire: return configuration.fire
            }
        }

        /// The coordinate system of the agency's map, as its mapping declares it (12345 Baidu, 119
        /// GCJ-02, 110's GIS CGCS2000 ≈ WGS-84, 120 WGS-84).
        var crs: CoordinateSystem {
            switch self {
            case .hotline: return .bd09
            case .fire: return .gcj02
            case .police, .ambulance: return .wgs84
            }
        }

        /// The field in which the agency names another agency's record of the same event (the
        /// mappings' `links`): 110 the 12345 order transferred to it, 120 the 110 ticket that passed
        /// the call on.
        var linkField: String? {
            switch self {
            case .police: return "转办工单编号"
            case .ambulance: return "GLJDBH"
            case .hotline, .fire: return nil
            }
        }

        /// How the agency's call takers write places. 12345 operators standardise the address; 110
        /// mixes house numbers and crossings; 119 crews go by crossings and buildings; 120 by the
        /// building or "near number N" the caller gives.
        var addressStyles: [(AddressStyle, Double)] {
            switch self {
            case .hotline: return [(.full, 0.55), (.near, 0.15), (.crossing, 0.05), (.building, 0.25)]
            case .police: return [(.full, 0.30), (.near, 0.30), (.crossing, 0.25), (.building, 0.15)]
            case .fire: return [(.full, 0.30), (.near, 0.05), (.crossing, 0.35), (.building, 0.30)]
            case .ambulance: return [(.full, 0.25), (.near, 0.35), (.crossing, 0.10), (.building, 0.30)]
            }
        }

        /// The agency's own record number for its `number`-th record (from 0) of the day, in the
        /// forms the other simulators use; unique because `number` is.
        func recordID(number: Int, at time: Date, division: String) -> String {
            let stamp = LocalTime.text(time, compact: true)
            let day = String(stamp.prefix(8))
            switch self {
            case .hotline: return "GD\(day)\(String(format: "%06d", number + 1))"
            case .police: return "110\(division)\(day)\(String(format: "%05d", number + 1))"
            case .fire: return "JJ\(division)\(day)\(String(format: "%05d", number + 1))"
            case .ambulance: return "120\(stamp)\(String(format: "%04d", number + 1))"
            }
        }
    }

    /// The ways a call taker writes a place: `福州市鼓楼区五一北路128号`, `五一北路128号附近`,
    /// `五一北路与湖东路交叉口东侧`, `鼓楼区湖东花园门口`.
    enum AddressStyle: Sendable {
        case full, near, crossing, building
    }

    /// How an agency words what it heard: its two type fields and how often this wording is used.
    /// 12345 (`appealType`, `matter`); 110 (警情类别, 警情细类); 119 (RWLX, unused); 120 (HJYY, FJ triage).
    struct Words: Sendable {
        var type: String
        var detail: String
        var weight: Double
    }

    /// One agency's part in a kind of event.
    struct Role: Sendable {
        var agency: Agency
        /// Probability that the agency hears of an event of this kind (1: always).
        var chance: Double
        /// Minutes after the event starts at which the agency's report is made.
        var delay: ClosedRange<Double>
        var words: [Words]
        /// The agency whose report this one names, if it carries an explicit link, and how often.
        var names: Agency?
        var namesChance: Double

        init(
            _ agency: Agency, chance: Double = 1, after delay: ClosedRange<Double> = 0...0,
            _ words: [(String, String, Double)],
            names: Agency? = nil, namesChance: Double = 0
        ) {
            self.agency = agency
            self.chance = chance
            self.delay = delay
            self.words = words.map { Words(type: $0.0, detail: $0.1, weight: $0.2) }
            self.names = names
            self.namesChance = namesChance
        }
    }

    /// A kind of true event: its label, how often it happens (relative to the others of its table),
    /// how many people it hurts, and the agencies that hear of it.
    struct EventKind: Sendable {
        var label: String
        var weight: Double
        var casualties: ClosedRange<Int>
        var roles: [Role]

        init(_ label: String, _ weight: Double, casualties: ClosedRange<Int> = 0...0, _ roles: [Role]) {
            self.label = label
            self.weight = weight
            self.casualties = casualties
            self.roles = roles
        }

        /// Whether an event of this kind can still be shared, given each agency's room left for shared
        /// reports: every certain agency has room, and at least two do.
        func isPossible(_ room: [Agency: Int]) -> Bool {
            roles.filter { room[$0.agency, default: 0] > 0 }.count >= 2
                && roles.allSatisfy { $0.chance < 1 || room[$0.agency, default: 0] > 0 }
        }

        /// Events that reach several agencies; weights are rough shares of such events in percent.
        /// A role that names another comes after it in its list (the named report is drafted first).
        static let shared: [EventKind] = [
            EventKind(
                "traffic", 30, casualties: 0...2,
                [
                    Role(.police, after: 0...2, [("交通", "交通事故", 3), ("交通", "车祸", 1)]),
                    Role(
                        .ambulance, chance: 0.85, after: 0.5...6, [("车祸", "Ⅲ级", 3), ("外伤", "Ⅲ级", 1), ("车祸", "Ⅱ级", 1)],
                        names: .police, namesChance: 0.3),
                    Role(.fire, chance: 0.12, after: 1...8, [("抢险救援", "", 1)]),  // someone trapped in the car
                    Role(.hotline, chance: 0.05, after: 5...30, [("求助", "车祸", 1)]),
                ]),
            EventKind(
                "fire", 14, casualties: 0...1,
                [
                    Role(.fire, after: 0...2, [("火灾扑救", "", 1)]),
                    Role(.police, chance: 0.7, after: 0.5...6, [("求助", "火灾", 2), ("求助", "失火", 1)]),
                    Role(.hotline, chance: 0.4, after: 2...30, [("求助", "着火", 2), ("投诉", "冒烟", 2), ("求助", "火灾", 1)]),
                    Role(.ambulance, chance: 0.15, after: 3...15, [("烧伤", "Ⅱ级", 1)]),
                ]),
            // A neighbour's noise or quarrel: the police first, the 12345 complaint later.
            EventKind(
                "dispute", 16,
                [
                    Role(.police, after: 0...3, [("治安", "纠纷", 1), ("治安", "噪音", 1)]),
                    Role(.hotline, after: 5...40, [("投诉", "噪音扰民", 1)]),
                ]),
            // A 12345 order transferred to 110: the ticket names the order, often beyond an hour later.
            EventKind(
                "dispute", 6,
                [
                    Role(.hotline, after: 0...1, [("投诉", "噪音扰民", 2), ("求助", "邻里纠纷", 1), ("举报", "噪音扰民", 1)]),
                    Role(
                        .police, after: 30...180, [("治安", "纠纷", 1), ("治安", "噪音", 1)], names: .hotline, namesChance: 1),
                ]),
            // Someone collapses in the street: passers-by call 110 and 120.
            EventKind(
                "collapse", 12,
                [
                    Role(.police, after: 0.5...8, [("求助", "求助", 1)]),
                    Role(
                        .ambulance, after: 0...2, [("胸痛", "Ⅱ级", 1), ("昏迷", "Ⅰ级", 1)], names: .police, namesChance: 0.3),
                ]),
            // A flooded underpass or a burst main.
            EventKind(
                "flood", 8,
                [
                    Role(.hotline, after: 0...10, [("求助", "道路积水", 1)]),
                    Role(.police, chance: 0.8, after: 0...10, [("求助", "求助", 1)]),
                    Role(.fire, chance: 0.5, after: 2...20, [("抢险救援", "", 1)]),
                ]),
            EventKind(
                "gas", 6,
                [
                    Role(.hotline, chance: 0.8, after: 0...15, [("求助", "燃气泄漏", 1), ("求助", "煤气泄漏", 1)]),
                    Role(.fire, chance: 0.8, after: 0...5, [("抢险救援", "", 1)]),
                    Role(.police, chance: 0.6, after: 0...8, [("求助", "燃气泄漏", 1)]),
                ]),
            EventKind(
                "drowning", 3,
                [
                    Role(.police, chance: 0.8, after: 0...2, [("求助", "溺水", 1)]),
                    Role(.fire, chance: 0.8, after: 0...5, [("抢险救援", "", 1)]),
                    Role(.ambulance, chance: 0.8, after: 0...5, [("溺水", "Ⅰ级", 1)], names: .police, namesChance: 0.3),
                ]),
            EventKind(
                "fight", 5, casualties: 1...2,
                [
                    Role(.police, after: 0...2, [("治安", "打架斗殴", 1)]),
                    Role(.ambulance, after: 1...10, [("外伤", "Ⅲ级", 1)], names: .police, namesChance: 0.3),
                ]),
        ]

        /// Events only one agency hears of; weights are rough shares of that agency's own reports.
        static let single: [EventKind] = [
            // 12345: enquiries and complaints about city services, a few emergencies.
            EventKind(
                "civic", 86,
                [
                    Role(
                        .hotline,
                        [
                            ("咨询", "社保咨询", 8), ("咨询", "公积金提取", 6), ("咨询", "医保报销", 5), ("咨询", "户籍办理", 4),
                            ("咨询", "不动产登记", 3), ("咨询", "公交线路", 3), ("咨询", "政策咨询", 4), ("投诉", "物业收费", 5),
                            ("投诉", "道路破损", 3), ("投诉", "垃圾清运", 4), ("投诉", "违规停车", 3), ("投诉", "拖欠工资", 4),
                            ("投诉", "消费纠纷", 4), ("求助", "路灯不亮", 3), ("求助", "供水中断", 4), ("求助", "停电", 3),
                            ("求助", "井盖缺失", 2), ("举报", "违章建筑", 3), ("举报", "占道经营", 2), ("建议", "公交线路", 1),
                            ("建议", "交通信号灯", 1),
                        ])
                ]),
            EventKind("dispute", 9, [Role(.hotline, [("投诉", "噪音扰民", 5), ("投诉", "油烟扰民", 4)])]),
            EventKind("flood", 0.3, [Role(.hotline, [("求助", "道路积水", 1)])]),
            EventKind("fire", 0.2, [Role(.hotline, [("投诉", "冒烟", 1)])]),
            // 110: its own tickets, some with sub-categories the crosswalk does not know.
            EventKind(
                "crime", 17, [Role(.police, [("刑事", "盗窃", 8), ("刑事", "诈骗", 6), ("刑事", "抢劫", 0.5), ("治安", "可疑人员", 2)])]),
            EventKind("dispute", 23, [Role(.police, [("治安", "纠纷", 14), ("治安", "打架斗殴", 5), ("治安", "噪音", 4)])]),
            EventKind("traffic", 17, [Role(.police, [("交通", "交通事故", 12), ("交通", "车祸", 2), ("交通", "交通堵塞", 3)])]),
            EventKind(
                "assist", 19, [Role(.police, [("求助", "求助", 10), ("求助", "走失", 3), ("求助", "开锁", 2), ("治安", "醉酒", 2)])]),
            EventKind("civic", 5, [Role(.police, [("非警务", "咨询", 1)])]),
            EventKind("crowd", 1, [Role(.police, [("群体性", "聚集", 1)])]),
            // 120: illness at home or at work, falls, the odd crash only the ambulance hears of.
            EventKind(
                "medical", 60,
                [
                    Role(
                        .ambulance,
                        [
                            ("急症", "Ⅲ级", 8), ("胸痛", "Ⅱ级", 6), ("昏迷", "Ⅰ级", 5), ("腹痛", "Ⅲ级", 5), ("发热", "Ⅳ级", 5),
                            ("呼吸困难", "Ⅱ级", 4), ("脑卒中", "Ⅱ级", 3), ("醉酒", "Ⅳ级", 2), ("孕产", "Ⅲ级", 2),
                        ])
                ]),
            EventKind("injury", 10, [Role(.ambulance, [("外伤", "Ⅲ级", 7), ("跌倒", "Ⅲ级", 3), ("烧伤", "Ⅲ级", 0.5)])]),
            EventKind("traffic", 4, [Role(.ambulance, [("车祸", "Ⅲ级", 1)])]),
            // 119: rubbish and e-bike fires, lifts and lockouts, wasps' nests.
            EventKind("fire", 35, [Role(.fire, [("火灾扑救", "", 1)])]),
            EventKind("rescue", 35, [Role(.fire, [("抢险救援", "", 1)])]),
            EventKind("assist", 30, [Role(.fire, [("社会救助", "", 1)])]),
        ]
    }
}
