import Foundation
import LiandongModel
import LiandongTestKit
import Testing

/// Coordinates against `samples/coords/oracle.json`, computed by two independent implementations.
@Suite struct CoordinateTests {
    struct Oracle: Decodable {
        struct Forward: Decodable {
            var name: String
            var wgs84: [Double]
            var gcj02: [Double]
            var bd09: [Double]
            var gcj02_to_wgs84_iterative: [Double]?
        }
        struct ReverseBD: Decodable {
            var name: String
            var bd09: [Double]
            var gcj02_iterative: [Double]
        }
        struct ReverseGCJ: Decodable {
            var name: String
            var gcj02: [Double]
            var wgs84_iterative: [Double]
        }
        struct Outside: Decodable {
            var name: String
            var wgs84: [Double]
            var gcj02: [Double]
        }
        var forward: [Forward]
        var reverse_bd_to_gcj: [ReverseBD]
        var reverse_gcj_to_wgs: [ReverseGCJ]
        var outside_china: [Outside]
    }

    static let oracle: Oracle = {
        let data = try! Data(contentsOf: Repository.samples.appendingPathComponent("coords/oracle.json"))
        return try! JSONDecoder().decode(Oracle.self, from: data)
    }()

    static let tolerance = 1e-8

    func expectClose(_ point: GeoPoint, _ expected: [Double], _ what: String) {
        #expect(abs(point.latitude - expected[0]) < Self.tolerance, "\(what): latitude \(point.latitude) vs \(expected[0])")
        #expect(abs(point.longitude - expected[1]) < Self.tolerance, "\(what): longitude \(point.longitude) vs \(expected[1])")
    }

    func point(_ pair: [Double]) -> GeoPoint { GeoPoint(latitude: pair[0], longitude: pair[1]) }

    @Test func forwardAndInverseMatchTheOracle() {
        #expect(Self.oracle.forward.count >= 10)
        for case_ in Self.oracle.forward {
            expectClose(CoordinateConverter.convert(point(case_.wgs84), from: .wgs84, to: .gcj02), case_.gcj02, "\(case_.name) wgs→gcj")
            expectClose(CoordinateConverter.convert(point(case_.wgs84), from: .wgs84, to: .bd09), case_.bd09, "\(case_.name) wgs→bd")
            expectClose(CoordinateConverter.convert(point(case_.gcj02), from: .gcj02, to: .wgs84), case_.wgs84, "\(case_.name) gcj→wgs")
            expectClose(CoordinateConverter.convert(point(case_.bd09), from: .bd09, to: .wgs84), case_.wgs84, "\(case_.name) bd→wgs")
        }
    }

    @Test func reverseCasesMatchTheIterativeAnswers() {
        // An oracle whose lists came out empty would pass every loop below without a check.
        #expect(!Self.oracle.reverse_bd_to_gcj.isEmpty && !Self.oracle.reverse_gcj_to_wgs.isEmpty)
        for case_ in Self.oracle.reverse_bd_to_gcj {
            expectClose(CoordinateConverter.convert(point(case_.bd09), from: .bd09, to: .gcj02), case_.gcj02_iterative, case_.name)
        }
        for case_ in Self.oracle.reverse_gcj_to_wgs {
            expectClose(CoordinateConverter.convert(point(case_.gcj02), from: .gcj02, to: .wgs84), case_.wgs84_iterative, case_.name)
        }
    }

    @Test func pointsOutsideChinaFollowTheBoundingBox() {
        #expect(!Self.oracle.outside_china.isEmpty)
        for case_ in Self.oracle.outside_china {
            expectClose(CoordinateConverter.convert(point(case_.wgs84), from: .wgs84, to: .gcj02), case_.gcj02, case_.name)
        }
    }

    /// Away from the oracle's points: the inverse must undo the forward transform everywhere in China.
    @Test(arguments: [(18.25, 109.5), (45.75, 126.63), (29.65, 91.1), (43.8, 87.6), (22.54, 114.06)])
    func inverseUndoesForwardAcrossChina(latitude: Double, longitude: Double) {
        let wgs = GeoPoint(latitude: latitude, longitude: longitude)
        for system in [CoordinateSystem.gcj02, .bd09] {
            let there = CoordinateConverter.convert(wgs, from: .wgs84, to: system)
            #expect(there != wgs)
            expectClose(CoordinateConverter.convert(there, from: system, to: .wgs84), [latitude, longitude], "\(system)")
        }
    }
}
