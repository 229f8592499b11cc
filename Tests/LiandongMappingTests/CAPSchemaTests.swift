import Foundation
import LiandongMapping
import LiandongModel
import LiandongTestKit
import Testing

/// Every CAP source is validated against the OASIS CAP 1.2 schema: what it does not allow is listed
/// on the record (or quarantines the document where the mapping says so), never dropped silently.
@Suite struct CAPSchemaTests {
    static let schema = Repository.mappings.appendingPathComponent("schemas/CAP-v1.2.xsd")

    static func mapped(_ text: String, mapping name: String = "weather/cap-alert") throws -> Mapping.Result {
        try MappingFixture.repositoryCatalog().mapping(named: name).map(Array(text.utf8))
    }

    static var weatherSample: String {
        get throws {
            try String(contentsOf: Repository.root.appendingPathComponent("Adapters/weather/samples/warnings.xml"), encoding: .utf8)
        }
    }

    @Test func theSamplesAreValidAndCarryNoViolations() throws {
        let schema = try XMLSchema(file: Self.schema)
        let folders = ["weather", "natural-resources", "water-warnings"].map { Repository.root.appendingPathComponent("Adapters/\($0)/samples") }
        let files = try folders.flatMap { try FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil) }
            .filter { $0.pathExtension == "xml" && !$0.lastPathComponent.contains("index") }
        #expect(files.count >= 10)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(schema.violations(in: text).isEmpty, "\(file.lastPathComponent): \(schema.violations(in: text))")
            guard case .mapped(let record) = try #require(try Self.mapped(text).records.first) else {
                Issue.record("\(file.lastPathComponent) does not map")
                continue
            }
            #expect(record.fields["schema_violations"] == nil)
        }
    }

    /// Content the schema does not allow is listed on the record, with its line: an element of no
    /// CAP name, a time without its offset.
    @Test func whatTheSchemaDoesNotAllowIsListedOnTheRecord() throws {
        let spoiled = try Self.weatherSample
            .replacingOccurrences(of: "<scope>", with: "<priority>urgent</priority><scope>")
            .replacingOccurrences(of: #"(<sent>[^<+]+)\+08:00"#, with: "$1", options: .regularExpression)
        guard case .mapped(let record) = try #require(try Self.mapped(spoiled).records.first) else {
            Issue.record("the record should still map")
            return
        }
        let listed = record.fields["schema_violations"]?.arrayValue ?? []
        let violations = listed.compactMap(\.stringValue)
        #expect(!violations.isEmpty)
        #expect(violations.contains { $0.contains("priority") && $0.hasPrefix("line ") }, "\(violations)")
        #expect(violations.contains { $0.contains("sent") }, "\(violations)")
    }

    /// Where the mapping says so, an invalid document is quarantined with rule `schema`.
    @Test func aMappingMayQuarantineInvalidDocuments() throws {
        let text = try String(contentsOf: Repository.mappings.appendingPathComponent("weather/cap-alert.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "violations: warn", with: "violations: quarantine")
        let catalog = try MappingFixture.catalog(["weather/cap-alert.yaml": text])
        let mapping = try catalog.mapping(named: "weather/cap-alert")
        let spoiled = try Self.weatherSample.replacingOccurrences(of: "<scope>", with: "<priority>urgent</priority><scope>")
        let result = mapping.map(Array(spoiled.utf8))
        #expect(result.documentFailure?.rule == .schema, "\(String(describing: result.documentFailure))")
        #expect(result.records.isEmpty)
        #expect(mapping.map(Array(try Self.weatherSample.utf8)).documentFailure == nil)
    }

    /// What the hub writes as CAP (to the broadcast platform) is valid CAP 1.2.
    @Test func theAlertsTheHubWritesAreValid() throws {
        let schema = try XMLSchema(file: Self.schema)
        guard case .mapped(let record) = try #require(try Self.mapped(try Self.weatherSample).records.first) else { return }
        let written = String(decoding: CAPWriter.document(record.fields), as: UTF8.self)
        #expect(schema.violations(in: written).isEmpty, "\(schema.violations(in: written))")
    }
}
