import LiandongMapping
import LiandongModel
import LiandongTestKit
import Testing

/// Every CAP document in `samples/cap/` either maps or is quarantined with a clear reason.
@Suite struct CAPSampleTests {
    static let mapping = try! MappingFixture.repositoryCatalog().mapping(named: "weather/cap-alert")

    func map(_ sample: String) throws -> Mapping.Result {
        Self.mapping.map(try Repository.sample(sample))
    }

    @Test(arguments: [
        ("cap/google-cap-library/thunderstorm.cap", "KSTO1055887203", "KSTO@NWS.NOAA.GOV", "2003-06-17T21:57:00Z"),
        ("cap/google-cap-library/43b080713727.cap", "43b080713727", "hsas@dhs.gov", "2003-04-02T19:39:01Z"),
    ])
    func validCAP12Maps(sample: String, identifier: String, sender: String, sent: String) throws {
        let result = try map(sample)
        #expect(result.documentFailure == nil)
        guard case .mapped(let record)? = result.records.first else {
            Issue.record("\(sample) did not map: \(result.records)")
            return
        }
        #expect(record.externalID == identifier)
        #expect(record.fields["identifier"] == .string(identifier))
        #expect(record.fields["sender"] == .string(sender))
        #expect(record.fields["sent"] == .string(sent))
        #expect(record.fields["msg_type"] == .string("Alert"))
        #expect(record.sourceTime.canonicalText == sent)
        guard case .array(let infos)? = record.fields["info"], case .object(let info)? = infos.first,
            case .array(let areas)? = info["areas"]
        else {
            Issue.record("no info with areas in \(record.fields)")
            return
        }
        #expect(!areas.isEmpty)
    }

    @Test(arguments: ["cap/google-cap-library/KAR0-0306112239-SW.cap", "cap/google-cap-library/weather-cap11.cap"])
    func cap11IsRefusedByNamespace(sample: String) throws {
        let failure = try #require(try map(sample).documentFailure)
        #expect(failure.rule == .namespace)
        #expect(failure.value == "urn:oasis:names:tc:emergency:cap:1.1")
        #expect(failure.message.contains("cap:1.2"))
    }

    /// The external-entity attack is refused before any parser sees it: nothing is fetched or read.
    @Test func externalEntityAttackIsRefusedUnparsed() throws {
        let result = try map("cap/google-cap-library/xee.cap")
        let failure = try #require(result.documentFailure)
        #expect(failure.rule == .doctype)
        #expect(result.records.isEmpty)
    }

    /// The CMA excerpt lacks status, msgType and scope: schema-invalid, each missing element named.
    @Test func schemaInvalidChineseExcerptNamesEveryMissingElement() throws {
        let result = try map("cap/cma-wmo-excerpt/cn-cma-13013241600000_20260826160913.excerpt.xml")
        guard case .failed(_, let externalID, let failures)? = result.records.first else {
            Issue.record("expected a record failure, got \(result)")
            return
        }
        #expect(externalID == "13013241600000_20260826160913")
        let paths = Set(failures.filter { $0.rule == .required }.map(\.path))
        #expect(paths.isSuperset(of: ["status", "msgType", "scope"]))
    }

    /// The Chinese profile: colour from severity, GB/T 35561 event code, 12-digit division geocode, references.
    @Test func chineseProfileUpdateMapsWithSupersession() throws {
        let cap = """
            <?xml version="1.0" encoding="UTF-8"?>
            <alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
              <identifier>13013241600000_20260826170000</identifier>
              <sender>13013241600000</sender>
              <sent>2026-08-26T17:00:00+08:00</sent>
              <status>Actual</status><msgType>Update</msgType><scope>Public</scope>
              <references>13013241600000,13013241600000_20260826160913,2026-08-26T16:09:13+08:00</references>
              <info>
                <language>zh-CN</language><category>Met</category><event>暴雨</event>
                <urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>
                <eventCode><valueName>GB/T 35561</valueName><value>11B03</value></eventCode>
                <expires>2026-08-27T17:00:00+08:00</expires>
                <area><areaDesc>元氏县</areaDesc>
                  <geocode><valueName>GB/T 2260</valueName><value>130132000000</value></geocode></area>
              </info>
            </alert>
            """
        let result = Self.mapping.map(Array(cap.utf8))
        guard case .mapped(let record)? = result.records.first else {
            Issue.record("did not map: \(result)")
            return
        }
        #expect(record.fields["colour"] == .string("orange"))
        #expect(record.fields["event_code"] == .string("11B03"))
        #expect(record.fields["division_code"] == .string("130132"))
        #expect(record.fields["expires"] == .string("2026-08-27T09:00:00Z"))
        #expect(record.links == [
            CanonicalRecord.Link(type: "supersedes", targetSource: "weather", targetExternalID: "13013241600000_20260826160913")
        ])
    }
}
