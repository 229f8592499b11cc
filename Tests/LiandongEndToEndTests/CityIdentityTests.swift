import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// Identity at a city's density through the real path: the generated city's pages in each agency's
/// own format, ingested in time order and in reverse, give the same incidents.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct CityIdentityTests {
    @Test func pageOrderDoesNotChangeTheIncidents() async throws {
        var configuration = CityDay.Configuration()
        configuration.hours = 1
        configuration.seed = 5
        configuration.city = .wuhan
        let pages = CityDay(configuration).pages(every: 10)
        let catalog = try MappingFixture.repositoryCatalog()
        let work = Scratch.path("city")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var outcomes: [(digest: String, incidents: Int)] = []
        for order in [pages, pages.reversed()] {
            outcomes.append(
                try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                    let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                    for page in order {
                        let file = work.appendingPathComponent("\(page.number)-\(page.source)")
                        try Data(page.document).write(to: file)
                        let summary = try await engine.ingestFiles([file], from: try AdapterCatalog.repository().definition(page.source))
                        #expect(summary.failures == 0)
                    }
                    let stats = try await hub.inspection.stats()
                    return (stats.digest, stats.incidents)
                })
        }
        #expect(outcomes[0].incidents < pages.map(\.reports.count).reduce(0, +), "some reports are joined")
        #expect(outcomes[0].digest == outcomes[1].digest, "\(outcomes.map(\.incidents))")
    }
}
