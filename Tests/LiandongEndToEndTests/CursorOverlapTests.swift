import Foundation
import LiandongHub
import LiandongModel
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// An update-time cursor survives late commits: a source whose records become visible after later
/// ones (a transaction that began first and committed second, or a clock that runs ahead) loses
/// nothing once the stream re-reads its overlap window, and does without it.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct CursorOverlapTests {
    static let catalog = try! MappingFixture.repositoryCatalog()

    @Test(arguments: [(AgencySimulator.Agency.police, "police_ticket"), (.fire, "fire_alarm"), (.ambulance, "ambulance_call")])
    func lateCommitsAreReadThroughTheOverlap(agency: AgencySimulator.Agency, table: String) async throws {
        var configuration = AgencySimulator.Configuration(agency: agency, seed: 5, records: 12)
        configuration.releasesByHand = true
        configuration.lateCommitEvery = 3
        let simulator = AgencySimulator(configuration)
        let versions = simulator.timeline.versions
        // How far behind the newest visible version a late one appears.
        let lateBy = zip(versions, versions.dropFirst()).map { $0.updated.timeIntervalSince($1.updated) }.max() ?? 0
        try #require(lateBy > 0, "the simulator commits some versions late")
        let latest = Dictionary(versions.map { ($0.id, $0.updated) }, uniquingKeysWith: { $1 })
        let expected = latest.map { "('\($0.key)', '\(Date(timeIntervalSince1970: $0.value.timeIntervalSince1970.rounded(.down)).canonicalText)'::timestamptz)" }
        var current: [TimeInterval: Int] = [:]
        try await simulator.withRunning { simulator in
            for overlap in [0, lateBy.rounded(.up) + 1] {
                let location = try await TestDatabase.makeFreshDatabase()
                try await Hub.withHub(at: location, policies: Self.catalog.policies, logger: TestDatabase.logger) { hub in
                    let engine = SyncEngine(hub: hub, catalog: Self.catalog, logger: hub.logger)
                    let adapter = try simulator.makeAdapter(pageSize: 4, overlap: overlap)
                    for count in 1...versions.count {
                        simulator.release(upTo: count)
                        let runs = try await engine.sync(adapter)
                        #expect(runs.allSatisfy { $0.error == nil })
                    }
                }
                // Records whose stored version is the source's latest.
                current[overlap] = try await OutsideSQL(location).integer(
                    """
                    SELECT count(*)::int FROM (VALUES \(expected.joined(separator: ", "))) AS latest(id, time)
                    JOIN \(table) t ON t.external_id = latest.id AND t.source_time = latest.time
                    """)
            }
        }
        #expect(current[0]! < latest.count, "without an overlap, versions committed late are skipped")
        #expect(current[lateBy.rounded(.up) + 1] == latest.count, "with one, every record is at its latest version")
    }
}
