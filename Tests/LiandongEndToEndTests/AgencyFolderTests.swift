import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// A new agency is a folder: `adapter new` writes one that `adapter check` passes, the folder
/// simulator serves its samples and the hub syncs them, with nothing under Sources/ touched; a broken
/// folder fails its check by name; the kit passes against the built-in simulators as live systems.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct AgencyFolderTests {
    /// A project of its own: copies of Mappings/ and Adapters/ and a configuration naming them.
    static func project() throws -> (folder: URL, config: String) {
        let folder = Scratch.path("project")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["Mappings", "Adapters"] {
            try FileManager.default.copyItem(at: Repository.root.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let config = folder.appendingPathComponent("liandong.yaml")
        try "mappings: Mappings\nadapters: Adapters\n".write(to: config, atomically: true, encoding: .utf8)
        return (folder, config.path)
    }

    struct Row: Decodable {
        var check: String
        var stream: String
        var result: String
        var detail: String
    }

    static func rows(_ output: CommandLineRunner.Output) throws -> [Row] {
        try JSONDecoder().decode([Row].self, from: Data(output.stdout.utf8))
    }

    @Test(arguments: ["json", "xml", "csv"])
    func aNewFolderPassesItsCheckAndItsRecordsArrive(format: String) async throws {
        let (folder, config) = try Self.project()
        let cli = CommandLineRunner()
        let written = try await cli.run(["adapter", "new", "water-resources", "--format", format, "--config", config])
        #expect(written.status == 0, "\(written.stderr)")
        let check = try await cli.run(["adapter", "check", "water-resources", "--config", config, "--json"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let rows = try Self.rows(check)
        #expect(rows.filter { $0.result == "fail" }.isEmpty)
        for name in ["samples map", "reads", "pages end", "incremental", "resume", "malformed page", "5xx retried", "timeout retried"] {
            #expect(rows.contains { $0.check == name && $0.result == "pass" }, "\(name) passes")
        }
        // Served from its samples and synced by the hub like any agency.
        let catalog = try MappingCatalog(directory: folder.appendingPathComponent("Mappings"))
        let agencies = try AdapterCatalog(directory: folder.appendingPathComponent("Adapters"))
        let simulator = try FolderSimulator(definition: try agencies.definition("water-resources"), catalog: catalog)
        let server = Task { try await simulator.run() }
        defer { server.cancel() }
        try await eventually("the folder simulator listens", within: .seconds(30)) { simulator.baseURL != nil }
        try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
            let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
            let runs = try await engine.sync(try agencies.make("water-resources", baseURL: simulator.baseURL!, token: nil, pageSize: 2, logger: hub.logger))
            #expect(runs.allSatisfy { $0.error == nil })
            #expect(try await hub.inspection.stats().entities["exchange_report"] == 3)
        }
    }

    @Test func aBrokenFolderFailsItsCheckByName() async throws {
        let (folder, config) = try Self.project()
        let cli = CommandLineRunner()
        _ = try await cli.run(["adapter", "new", "water-resources", "--config", config])
        // The mapping says it is another system's, and the sample was once decoded as Latin-1 (mojibake).
        let mapping = folder.appendingPathComponent("Mappings/water-resources/record.yaml")
        try (try String(contentsOf: mapping, encoding: .utf8)).replacingOccurrences(of: "source: water-resources", with: "source: weather")
            .write(to: mapping, atomically: true, encoding: .utf8)
        let sample = folder.appendingPathComponent("Adapters/water-resources/samples/records.json")
        try String(data: try Data(contentsOf: sample), encoding: .isoLatin1)!.write(to: sample, atomically: true, encoding: .utf8)
        let check = try await cli.run(["adapter", "check", "water-resources", "--config", config, "--json"])
        #expect(check.status == 1)
        let failed = try Self.rows(check).filter { $0.result == "fail" }.map(\.check)
        #expect(failed.contains("mapping") && failed.contains("encoding"), "\(failed)")
        // An unreadable folder is a failing row, not a crash.
        try "system: water-resources\n".write(to: folder.appendingPathComponent("Adapters/water-resources/adapter.yaml"), atomically: true, encoding: .utf8)
        let unreadable = try await cli.run(["adapter", "check", "water-resources", "--config", config])
        #expect(unreadable.status == 1 && unreadable.stdout.contains("folder") && unreadable.stdout.contains("'transport'"), "\(unreadable.stdout)")
    }

    /// The kit against the built-in simulators as live systems: their own paging, faults and receivers.
    @Test(arguments: [AgencySimulator.Agency.police, .fire])
    func theKitPassesTheBuiltInSimulatorsLive(agency: AgencySimulator.Agency) async throws {
        try await AgencySimulator(.init(agency: agency, seed: 3, records: 8)).withRunning { simulator in
            let check = try await CommandLineRunner().run(
                ["adapter", "check", agency.rawValue, "--live", "--url", simulator.baseURL!, "--deliver", "--json"])
            let rows = try Self.rows(check)
            #expect(check.status == 0, "\(rows.filter { $0.result == "fail" })")
            #expect(rows.contains { $0.check == "malformed record" && $0.result == "pass" })
            #expect(rows.contains { $0.check == "idempotent" && $0.result == "pass" })
        }
    }
}

/// Every agency folder of the repository passes the conformance kit against its own samples.
@Suite struct RepositoryFolderTests {
    @Test(arguments: try AdapterCatalog.repository().systems)
    func theFolderPassesItsCheck(system: String) async throws {
        // A database folder's samples become tables in a scratch database on the test server.
        let runner = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": try TestDatabase.serverLocation().url])
        let check = try await runner.run(["adapter", "check", system, "--json"])
        let rows = try AgencyFolderTests.rows(check)
        #expect(check.status == 0, "\(rows.filter { $0.result == "fail" }.map { "\($0.check): \($0.detail)" })")
        #expect(rows.contains { $0.check == "reads" && $0.result == "pass" }, "its samples are read as the agency serves them")
        if try AdapterCatalog.repository().definition(system).transport == .database {
            // A table's row with no key is quarantined at the key's path, in every stream.
            let spoiled = rows.filter { $0.check == "malformed record" }
            #expect(!spoiled.isEmpty && spoiled.allSatisfy { $0.result == "pass" }, "\(spoiled.map(\.detail))")
        }
    }
}
