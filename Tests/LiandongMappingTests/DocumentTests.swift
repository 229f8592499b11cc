import Foundation
@testable import LiandongMapping
import LiandongModel
import LiandongTestKit
import Testing

@Suite struct EncodingTests {
    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    @Test(arguments: ["GBK", "gb2312", "GB18030", "cp936"])
    func everyGBFamilyLabelDecodesAsGB18030(label: String) throws {
        let bytes = Array("接警编号：火灾扑救".data(using: Self.gb18030)!)
        let decoded = try TextDecoding.decode(bytes, declared: label, fallback: .utf8)
        #expect(decoded.text == "接警编号：火灾扑救")
        #expect(decoded.charset == .gb18030)
    }

    @Test func xmlDeclarationIsHonouredAndTheTextParses() throws {
        let xml = #"<?xml version="1.0" encoding="GBK"?><JQLB><JQ><AFDZ>上海市黄浦区</AFDZ></JQ></JQLB>"#
        let decoded = try TextDecoding.decode(Array(xml.data(using: Self.gb18030)!), declared: nil, fallback: .utf8)
        #expect(decoded.declared == "GBK")
        // Regression: the declaration must not make the parser decode the already-decoded text again.
        let root = try DocumentParser().parse(decoded.text, as: .xml)
        #expect(root.select("JQLB.JQ.AFDZ").first?.text == "上海市黄浦区")
    }

    @Test func utf8BOMIsStripped() throws {
        let decoded = try TextDecoding.decode([0xEF, 0xBB, 0xBF] + Array("{\"a\":1}".utf8), declared: nil, fallback: .gb18030)
        #expect(decoded.text == "{\"a\":1}")
        #expect(decoded.charset == .utf8)
    }

    @Test func latin1() throws {
        #expect(try TextDecoding.decode([0x43, 0x61, 0x66, 0xE9], declared: "ISO-8859-1", fallback: .utf8).text == "Café")
    }

    @Test func bytesInvalidInTheDeclaredEncodingAreRefused() {
        #expect(throws: TextDecoding.Failure.self) { try TextDecoding.decode([0xC3, 0x28, 0xFF], declared: "utf-8", fallback: .utf8) }
        #expect(throws: TextDecoding.Failure.self) { try TextDecoding.decode([0x81, 0x20], declared: "GBK", fallback: .utf8) }
    }

    @Test func unknownLabelsAreRefusedWithWhatIsSupported() {
        #expect {
            try TextDecoding.decode(Array("x".utf8), declared: "EBCDIC", fallback: .utf8)
        } throws: { "\($0)".contains("unsupported encoding 'EBCDIC'") }
    }
}

@Suite struct DocumentParserTests {
    @Test func jsonArraysBecomeRepeatedChildren() throws {
        let root = try DocumentParser().parse(#"{"items":[{"id":"a"},{"id":"b"}],"n":2}"#, as: .json)
        #expect(root.select("items.id").compactMap(\.text) == ["a", "b"])
        #expect(root.select("n").first?.text == "2")
    }

    @Test func xmlAttributesNamespacesAndPredicates() throws {
        let xml = """
            <alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><info>
              <eventCode><valueName>other</valueName><value>X</value></eventCode>
              <eventCode><valueName>GB/T 35561</valueName><value>11B14</value></eventCode>
            </info><list next="7"/></alert>
            """
        let root = try DocumentParser().parse(xml, as: .xml)
        #expect(root.children.first?.namespace == "urn:oasis:names:tc:emergency:cap:1.2")
        #expect(root.select("alert.info.eventCode[valueName=GB/T 35561].value").first?.text == "11B14")
        #expect(root.select("alert.list.@next").first?.text == "7")
    }

    @Test func csvWithQuotedFieldsAndPinyinHeaders() throws {
        let csv = "JJBH,AFDZ,BJDH\r\nJJ1,\"上海市, 黄浦区\",13812345678\nJJ2,\"say \"\"hi\"\"\",\n"
        let root = try DocumentParser().parse(csv, as: .csv)
        #expect(root.select("row.JJBH").compactMap(\.text) == ["JJ1", "JJ2"])
        #expect(root.select("row.AFDZ").compactMap(\.text) == ["上海市, 黄浦区", "say \"hi\""])
    }

    @Test func jsonLinesAreOneRecordPerLineAndBlankLinesAreSkipped() throws {
        let text = "{\"id\":\"A\",\"units\":[{\"u\":1},{\"u\":2}]}\r\n\n  \n{\"id\":\"B\"}"
        let root = try DocumentParser().parse(text, as: .jsonLines)
        #expect(root.select("line.id").compactMap(\.text) == ["A", "B"])
        #expect(root.select("line.units.u").compactMap(\.text) == ["1", "2"])
    }

    @Test func aMalformedJSONLineIsNamedByItsNumber() {
        #expect {
            try DocumentParser().parse("{\"id\":\"A\"}\n{\"id\":\n", as: .jsonLines)
        } throws: { ($0 as? MappingFailure)?.path == "/line[2]" }
    }

    @Test func csvRowsOfTheWrongWidthFail() {
        #expect(throws: MappingFailure.self) { try DocumentParser().parse("a,b\n1,2,3\n", as: .csv) }
    }

    @Test func doctypeAndEntitiesAreRefusedBeforeParsing() {
        for xml in ["<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "<a><!ENTITY x SYSTEM \"file:///etc/passwd\"></a>"] {
            #expect {
                try DocumentParser().parse(xml, as: .xml)
            } throws: { ($0 as? MappingFailure)?.rule == .doctype }
        }
    }

    @Test func sizeAndDepthLimits() {
        let deepJSON = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let deepXML = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        for (text, format) in [(deepJSON, DocumentParser.Format.json), (deepXML, .xml)] {
            #expect {
                try DocumentParser(maxDepth: 64).parse(text, as: format)
            } throws: { ($0 as? MappingFailure)?.message.contains("deeper than 64") == true }
        }
        #expect {
            try DocumentParser(maxBytes: 10).parse("{\"a\":\"0123456789\"}", as: .json)
        } throws: { ($0 as? MappingFailure)?.message.contains("larger than 10 bytes") == true }
    }

    /// An empty page is told by its container, predicate included: another kind of container is not ours.
    @Test func emptyPageKeepsTheContainersPredicate() throws {
        let other = try DocumentParser().parse(#"{"data":{"kind":"other","items":[]}}"#, as: .json)
        #expect(!Mapping.isEmptyPage(other, records: "data[kind=orders].items"))
        let ours = try DocumentParser().parse(#"{"data":{"kind":"orders","items":[]}}"#, as: .json)
        #expect(Mapping.isEmptyPage(ours, records: "data[kind=orders].items"))
    }

    @Test func malformedXMLSaysWhere() {
        #expect {
            try DocumentParser().parse("<a>\n<b></a>", as: .xml)
        } throws: { error in
            guard let failure = error as? MappingFailure else { return false }
            return failure.rule == .document && failure.message.contains("line 2")
        }
    }
}
