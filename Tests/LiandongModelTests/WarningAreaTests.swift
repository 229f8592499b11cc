import Foundation
import LiandongModel
import Testing

/// Where a warning holds: inside its polygons and circles, or in its divisions when it has no shape.
@Suite struct WarningAreaTests {
    static func warning(_ areas: [[String: FieldValue]]) -> WarningArea {
        WarningArea(warning: ["info": .array([.object(["areas": .array(areas.map(FieldValue.object))])])])
    }

    @Test func aPolygonCoversWhatIsInsideIt() {
        let area = Self.warning([
            ["polygons": .array(["29.36,114.52 29.34,115.02 29.10,115.06 28.96,114.74 29.00,114.52 29.36,114.52"]),
             "geocodes": .array([.object(["name": "GB/T 2260", "value": "360424"])])]
        ])
        #expect(area.covers(lat: 29.0583, lon: 114.6712, division: "360424"))
        #expect(!area.covers(lat: 29.45, lon: 114.40, division: "360424"), "a shape decides: the county's code does not widen it")
        #expect(!area.covers(lat: nil, lon: nil, division: "360424"), "a point without a place is not inside a shape")
    }

    @Test func aCircleCoversWhatIsWithinItsRadius() {
        let area = Self.warning([["circles": .array(["29.30,115.76 10"])]])
        #expect(area.covers(lat: 29.35, lon: 115.76, division: nil), "5.6 km away")
        #expect(!area.covers(lat: 29.45, lon: 115.76, division: nil), "16.7 km away")
    }

    @Test func divisionsCoverTheirCountiesWhenThereIsNoShape() {
        let county = Self.warning([["geocodes": .array([.object(["name": "GB/T 2260", "value": "360425"])])]])
        #expect(county.covers(lat: nil, lon: nil, division: "360425"))
        #expect(!county.covers(lat: 29.0, lon: 115.8, division: "360424"))
        let city = Self.warning([["geocodes": .array([.object(["name": "GB/T 2260", "value": "360400000000"])])]])
        #expect(city.covers(lat: nil, lon: nil, division: "360423"), "a city's code covers its counties")
        #expect(!city.covers(lat: nil, lon: nil, division: "360123"))
        #expect(!Self.warning([]).covers(lat: 29, lon: 115, division: "360425"), "a warning without areas covers nothing")
    }
}
