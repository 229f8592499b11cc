import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongModel
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing
import Yams

/// The scenarios in `Tests/Scenarios/*.yaml` (see its README), each run through the real engine, the
/// repository's mappings and policies, and a fresh PostgreSQL database.
@Suite(.tags(.database), .runsWithDatabase) struct ScenarioTests {
    static let folder = Repository.root.appendingPathComponent("Tests/Scenarios")
    static let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".yaml") }.sorted()

    struct Scenario: Decodable {
        var description: String
        var steps: [Step]
        var expect: Expectation

        struct Step: Decodable {
            var source: String?
            var document: String?
            var split: String?
            /// Accept the open link candidate of this report.
            var accept: String?
            /// Resolve the open conflict on this field with `value`.
            var resolve: String?
            var value: String?
        }

        struct Expectation: Decodable {
            var incidents: Int
            /// Open link candidates, when given.
            var candidates: Int?
            var each: [IncidentExpectation]
        }

        struct IncidentExpectation: Decodable {
            var reports: [String]
            var fields: [String: FieldExpectation]?
            var alternates: [String: [String]]?
            var conflicts: [String]?
            var audit: [String]?
        }

        struct FieldExpectation: Decodable {
            var value: String?
            var source: String?
        }
    }

    @Test func thereAreScenarios() {
        #expect(Self.names.count >= 14)
    }

    @Test(arguments: names)
    func scenario(_ name: String) async throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
        let scenario = try YAMLDecoder().decode(Scenario.self, from: text)
        let catalog = try MappingFixture.repositoryCatalog()
        let work = Scratch.path("scenario")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
            let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
            for (n, step) in scenario.steps.enumerated() {
                if let source = step.source, let document = step.document {
                    let file = work.appendingPathComponent("step-\(n)")
                    try Data(document.utf8).write(to: file)
                    let summary = try await engine.ingestFiles([file], from: try AdapterCatalog.repository().definition(source))
                    #expect(summary.failures == 0, "\(name) step \(n): the document maps")
                } else if let report = step.split {
                    try await hub.incidents.split(report: report, by: .test)
                } else if let report = step.accept {
                    let candidate = try #require(try await hub.incidents.candidates(openOnly: true).first { $0.report == report }, "\(name)")
                    try await hub.incidents.acceptCandidate(candidate.id, by: .test)
                } else if let field = step.resolve, let value = step.value {
                    let conflict = try #require(try await hub.incidents.conflicts(openOnly: true).first { $0.field == field }, "\(name)")
                    try await hub.incidents.resolveConflict(conflict.id, value: value, by: .test)
                }
            }
            let incidents = try await hub.incidents.list()
            #expect(incidents.count == scenario.expect.incidents, "\(name): \(incidents.map(\.reports))")
            if let candidates = scenario.expect.candidates {
                #expect(try await hub.incidents.candidates(openOnly: true).count == candidates, "\(name): open candidates")
            }
            for expected in scenario.expect.each {
                let file = try await hub.incidents.file(expected.reports[0])
                #expect(file.reports.map(\.report).sorted() == expected.reports.sorted(), "\(name)")
                for (field, want) in expected.fields ?? [:] {
                    let got = file.fields.first { $0.name == field }
                    if let value = want.value { #expect(got?.value.readableText == value, "\(name): \(field)") }
                    if let source = want.source { #expect(got?.source == source, "\(name): \(field) source") }
                }
                for (field, sources) in expected.alternates ?? [:] {
                    let got = Set(file.fields.first { $0.name == field }?.alternates.map(\.source) ?? [])
                    #expect(got == Set(sources), "\(name): alternates of \(field)")
                }
                let open = file.conflicts.filter { $0.status == "open" }.map(\.field).sorted()
                #expect(open == (expected.conflicts ?? []).sorted(), "\(name): open conflicts")
                let actions = Set(file.audit.map(\.action))
                for action in expected.audit ?? [] { #expect(actions.contains(action), "\(name): audit has \(action)") }
            }
            #expect(try await hub.audit.verify().firstBad == nil)
            // Rebuilding from the raw payloads reproduces the same state, splits included.
            let before = try await hub.inspection.stats()
            _ = try await engine.rebuild()
            let after = try await hub.inspection.stats()
            #expect(after.digest == before.digest, "\(name): rebuild reproduces the digest")
            #expect(after.incidents == before.incidents)
            #expect(try await hub.audit.verify().firstBad == nil)
        }
    }
}

extension ScenarioTests {
    /// The reports of one event arriving in any order make the same incidents: identity and fields.
    @Test(arguments: [
        "same-fire-three-agencies.yaml", "traffic-accident-110-120.yaml", "casualties-conflict.yaml", "transfer-after-hours.yaml",
        "no-chain-along-a-street.yaml", "complaint-between-two-disputes.yaml",
    ])
    func arrivalOrderDoesNotChangeTheIncidents(_ name: String) async throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
        let steps = try YAMLDecoder().decode(Scenario.self, from: text).steps
        let catalog = try MappingFixture.repositoryCatalog()
        let work = Scratch.path("order")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var digests: Set<String> = []
        for order in Self.permutations(Array(steps.indices)) {
            let digest = try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                for n in order {
                    let file = work.appendingPathComponent("step-\(n)")
                    try Data((steps[n].document ?? "").utf8).write(to: file)
                    _ = try await engine.ingestFiles([file], from: try AdapterCatalog.repository().definition(steps[n].source ?? ""))
                }
                return try await hub.inspection.stats().digest
            }
            digests.insert(digest)
        }
        #expect(digests.count == 1, "\(name): \(digests.count) different outcomes")
    }

    static func permutations(_ items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i in
            permutations(Array(items[..<i] + items[(i + 1)...])).map { [items[i]] + $0 }
        }
    }
}
