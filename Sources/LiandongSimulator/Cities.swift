import Foundation
import LiandongModel

// The built-in cities of `CityDay`: real cities of several million, their county-level divisions and
// some of their real main streets.
//
// Division codes are GB/T 2260 county-level codes current in 2025, all in the hub's division list
// (`Mappings/codes/divisions-gb2260-2025.tsv`), so the hub accepts every report. All but 新津区
// (510118, a district since 2020) are also in the ministry's 2019-04 list. Centres are WGS-84 points
// near each district's government seat, to a few hundred metres; populations are the 2020 census in
// 10,000s, rounded: they only weigh where events happen.

extension CityDay {
    /// A city: its districts (GB/T 2260 county-level divisions with a WGS-84 centre) and street names.
    public struct City: Sendable {
        /// A county-level division of the city.
        public struct District: Sendable {
            /// GB/T 2260 code, e.g. `350102`.
            public var code: String
            /// Its name, e.g. `鼓楼区`.
            public var name: String
            /// WGS-84 latitude of its centre.
            public var latitude: Double
            /// WGS-84 longitude of its centre.
            public var longitude: Double
            /// Residents in 10,000s: the weight of the district when events are placed.
            public var population: Double

            /// A district; `population` (in 10,000s) weighs how many events happen in it.
            public init(code: String, name: String, latitude: Double, longitude: Double, population: Double) {
                self.code = code
                self.name = name
                self.latitude = latitude
                self.longitude = longitude
                self.population = population
            }

            /// Its centre, WGS-84.
            public var centre: GeoPoint { GeoPoint(latitude: latitude, longitude: longitude) }
        }

        /// Short key, e.g. `fuzhou`.
        public var id: String
        /// Its name as addresses write it, e.g. `福州市`.
        public var name: String
        /// Its county-level divisions (at least one).
        public var districts: [District]
        /// Street names (at least two): events happen on them and at their crossings.
        public var streets: [String]

        /// A city; it needs at least one district and two streets.
        public init(id: String, name: String, districts: [District], streets: [String]) {
            self.id = id
            self.name = name
            self.districts = districts
            self.streets = streets
        }

        /// The built-in cities.
        public static let all: [City] = [fuzhou, wuhan, chengdu]

        /// A built-in city by key (`wuhan`) or name (`武汉市`, `武汉`).
        public static func named(_ name: String) -> City? {
            all.first { $0.id == name.lowercased() || $0.name == name || $0.name.dropLast() == name }
        }

        /// 福州市, Fujian: 8.3 million people, 13 county-level divisions.
        public static let fuzhou = City(
            id: "fuzhou", name: "福州市",
            districts: [
                District(code: "350102", name: "鼓楼区", latitude: 26.0823, longitude: 119.2966, population: 77),
                District(code: "350103", name: "台江区", latitude: 26.0526, longitude: 119.3145, population: 45),
                District(code: "350104", name: "仓山区", latitude: 26.0300, longitude: 119.3000, population: 113),
                District(code: "350105", name: "马尾区", latitude: 25.9891, longitude: 119.4554, population: 23),
                District(code: "350111", name: "晋安区", latitude: 26.0820, longitude: 119.3280, population: 95),
                District(code: "350112", name: "长乐区", latitude: 25.9628, longitude: 119.5232, population: 78),
                District(code: "350121", name: "闽侯县", latitude: 26.1500, longitude: 119.1310, population: 99),
                District(code: "350122", name: "连江县", latitude: 26.1974, longitude: 119.5395, population: 56),
                District(code: "350123", name: "罗源县", latitude: 26.4898, longitude: 119.5495, population: 23),
                District(code: "350124", name: "闽清县", latitude: 26.2215, longitude: 118.8633, population: 22),
                District(code: "350125", name: "永泰县", latitude: 25.8664, longitude: 118.9320, population: 25),
                District(code: "350128", name: "平潭县", latitude: 25.4985, longitude: 119.7905, population: 36),
                District(code: "350181", name: "福清市", latitude: 25.7208, longitude: 119.3840, population: 137),
            ],
            streets: [
                "五一北路", "五四路", "八一七北路", "湖东路", "东街", "杨桥中路", "工业路", "华林路", "六一北路", "福新中路",
                "塔头路", "福飞北路", "白马北路", "铜盘路", "国货西路", "台江路", "上杭路", "金山大道", "浦上大道", "连江北路",
                "福马路", "鼓屏路", "温泉路", "北环中路",
            ])

        /// 武汉市, Hubei: 12.3 million people, 13 districts.
        public static let wuhan = City(
            id: "wuhan", name: "武汉市",
            districts: [
                District(code: "420102", name: "江岸区", latitude: 30.6000, longitude: 114.3093, population: 97),
                District(code: "420103", name: "江汉区", latitude: 30.6015, longitude: 114.2704, population: 65),
                District(code: "420104", name: "硚口区", latitude: 30.5823, longitude: 114.2147, population: 67),
                District(code: "420105", name: "汉阳区", latitude: 30.5543, longitude: 114.2184, population: 84),
                District(code: "420106", name: "武昌区", latitude: 30.5538, longitude: 114.3160, population: 109),
                District(code: "420107", name: "青山区", latitude: 30.6398, longitude: 114.3850, population: 53),
                District(code: "420111", name: "洪山区", latitude: 30.5000, longitude: 114.3440, population: 165),
                District(code: "420112", name: "东西湖区", latitude: 30.6200, longitude: 114.1370, population: 87),
                District(code: "420113", name: "汉南区", latitude: 30.3088, longitude: 114.0845, population: 13),
                District(code: "420114", name: "蔡甸区", latitude: 30.5820, longitude: 114.0290, population: 55),
                District(code: "420115", name: "江夏区", latitude: 30.3750, longitude: 114.3130, population: 97),
                District(code: "420116", name: "黄陂区", latitude: 30.8820, longitude: 114.3750, population: 115),
                District(code: "420117", name: "新洲区", latitude: 30.8410, longitude: 114.8010, population: 86),
            ],
            streets: [
                "解放大道", "中山大道", "建设大道", "发展大道", "京汉大道", "江汉路", "武珞路", "珞喻路", "中北路", "中南路",
                "徐东大街", "和平大道", "友谊大道", "鹦鹉大道", "汉阳大道", "汉正街", "民族大道", "光谷大道", "雄楚大道", "新华路",
                "沿江大道", "青年路", "古田二路", "武胜路",
            ])

        /// 成都市, Sichuan: 21 million people; its 12 districts and 3 of its 8 counties and county-level cities.
        public static let chengdu = City(
            id: "chengdu", name: "成都市",
            districts: [
                District(code: "510104", name: "锦江区", latitude: 30.6570, longitude: 104.0830, population: 90),
                District(code: "510105", name: "青羊区", latitude: 30.6740, longitude: 104.0620, population: 96),
                District(code: "510106", name: "金牛区", latitude: 30.6920, longitude: 104.0520, population: 127),
                District(code: "510107", name: "武侯区", latitude: 30.6420, longitude: 104.0430, population: 121),
                District(code: "510108", name: "成华区", latitude: 30.6600, longitude: 104.1020, population: 138),
                District(code: "510112", name: "龙泉驿区", latitude: 30.5570, longitude: 104.2740, population: 135),
                District(code: "510113", name: "青白江区", latitude: 30.8780, longitude: 104.2510, population: 49),
                District(code: "510114", name: "新都区", latitude: 30.8230, longitude: 104.1590, population: 156),
                District(code: "510115", name: "温江区", latitude: 30.6820, longitude: 103.8560, population: 97),
                District(code: "510116", name: "双流区", latitude: 30.5740, longitude: 103.9230, population: 147),
                District(code: "510117", name: "郫都区", latitude: 30.7950, longitude: 103.9010, population: 139),
                District(code: "510118", name: "新津区", latitude: 30.4140, longitude: 103.8110, population: 36),
                District(code: "510181", name: "都江堰市", latitude: 30.9880, longitude: 103.6470, population: 71),
                District(code: "510182", name: "彭州市", latitude: 30.9900, longitude: 103.9580, population: 78),
                District(code: "510185", name: "简阳市", latitude: 30.4110, longitude: 104.5470, population: 112),
            ],
            streets: [
                "人民南路", "人民北路", "春熙路", "蜀都大道", "天府大道", "红星路", "东大街", "玉林路", "科华北路", "锦华路",
                "蜀汉路", "金府路", "双林路", "建设路", "府青路", "抚琴路", "青华路", "顺城大街", "浆洗街", "武侯祠大街",
                "沙湾路", "一环路", "二环路", "羊市街",
            ])
    }
}
