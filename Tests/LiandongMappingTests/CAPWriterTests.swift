import Foundation
import LiandongMapping
import LiandongModel
import LiandongTestKit
import Testing

/// `CAPWriter`: a warning written as CAP 1.2 reads back through the CAP mapping as the same fields.
@Suite struct CAPWriterTests {
    static var documents: [URL] {
        let weather = Repository.root.appendingPathComponent("Adapters/weather/samples")
        let files = (try? FileManager.default.contentsOfDirectory(at: weather, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.pathExtension == "xml" && !$0.lastPathComponent.contains("index") }.sorted { $0.path < $1.path }
            + [Repository.samples.appendingPathComponent("cap/google-cap-library/thunderstorm.cap")]
    }

    @Test(arguments: documents)
    func aWarningWrittenAsCAPReadsBackTheSame(document: URL) throws {
        let mapping = try MappingFixture.repositoryCatalog().mapping(named: "weather/cap-alert")
        guard case .mapped(let record) = try #require(mapping.map(try [UInt8](Data(contentsOf: document))).records.first) else {
            Issue.record("\(document.lastPathComponent) does not map")
            return
        }
        let written = CAPWriter.document(record.fields)
        let text = String(decoding: written, as: UTF8.self)
        #expect(text.contains("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>"), "identifier first, as the schema's sequence says")
        #expect(!text.contains("Z</"), "times with their offset, never Z")
        guard case .mapped(let again) = try #require(mapping.map(written).records.first) else {
            Issue.record("the written alert does not map: \(text)")
            return
        }
        #expect(again.fields == record.fields)
        #expect(again.externalID == record.externalID && again.sourceTime == record.sourceTime)
    }
}
