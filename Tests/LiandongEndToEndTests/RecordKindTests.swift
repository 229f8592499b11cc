import Foundation
import LiandongAdapterKit
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// Record kinds as data: a kind declared in `Mappings/kinds/` gets its table and typed, indexed
/// columns from the declaration, evolves when a field is newly indexed, refuses a change of an
/// indexed field's type, and as a report joins incidents.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct RecordKindTests {
    /// A copy of the repository's Mappings/ with `kinds` declared and a water bureau's mapping.
    static func mappings(kinds: [String: String]) throws -> URL {
        let folder = Scratch.path("mappings")
        try FileManager.default.copyItem(at: Repository.mappings, to: folder)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("kinds"), withIntermediateDirectories: true)
        for (kind, text) in kinds {
            try text.write(to: folder.appendingPathComponent("kinds/\(kind).yaml"), atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("water-bureau"), withIntermediateDirectories: true)
        try """
            version: 1
            source: water-bureau
            entity: water_level
            document: {format: json-lines, encoding: utf-8, records: line}
            id: STCD
            source_time: {path: TM, transforms: [time]}
            fields:
              station_code: {path: STCD}
              level_m: {path: Z}
              basin: {path: BASIN}
              reported_at: {path: TM, transforms: [time]}
              division_code: {path: ADDVCD, transforms: [division]}
              location: {lat: LAT, lon: LGTD, transforms: [{coordinates: {crs: wgs84}}]}
            """.write(to: folder.appendingPathComponent("water-bureau/level.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    static let waterLevel = """
        kind: water_level
        description: a station's river level (SL 323 ST_RIVER_R)
        fields:
          station_code: {type: text, indexed: true}
          level_m: {type: number, indexed: true}
          basin: {type: text}

        """

    static let lines = [
        #"{"STCD": "60105400", "TM": "2026-07-01 08:00:00", "Z": "3.25", "BASIN": "长江", "ADDVCD": "110101", "LAT": 39.93, "LGTD": 116.41}"#,
        #"{"STCD": "60105500", "TM": "2026-07-01 08:05:00", "Z": "4.10", "BASIN": "长江", "ADDVCD": "110101", "LAT": 39.931, "LGTD": 116.411}"#,
        #"{"STCD": "60105600", "TM": "2026-07-01 08:06:00", "Z": "not measured", "BASIN": "淮河", "ADDVCD": "110101", "LAT": 39.932, "LGTD": 116.412}"#,
    ]

    /// Ingests the water levels with `catalog` into the database at `location`.
    static func ingest(_ catalog: MappingCatalog, at location: DatabaseLocation) async throws {
        let file = Scratch.path("levels", extension: "jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let folder = Scratch.path("water-bureau")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
            system: water-bureau
            transport: folder
            format: json-lines
            streams: [{name: levels, mapping: water-bureau/level, path: "*.jsonl"}]
            """.write(to: folder.appendingPathComponent("adapter.yaml"), atomically: true, encoding: .utf8)
        try await Hub.withHub(at: location, policies: catalog.policies, logger: TestDatabase.logger) { hub in
            let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
            let summary = try await engine.ingestFiles([file], from: try AdapterDefinition(folder: folder))
            #expect(summary.failures == 0)
        }
    }

    @Test func aDeclaredKindGetsItsTableEvolvesAndRefusesAnIncompatibleChange() async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        let sql = OutsideSQL(location)
        try await Self.ingest(try MappingCatalog(directory: try Self.mappings(kinds: ["water_level": Self.waterLevel])), at: location)
        // Typed, indexed columns an admin can query; a value that is not a number is NULL there, kept in data.
        #expect(try await sql.integer("SELECT count(*)::int FROM water_level WHERE level_m > 3.5") == 1)
        #expect(try await sql.integer("SELECT count(*)::int FROM water_level WHERE level_m IS NULL AND data ->> 'level_m' = 'not measured'") == 1)
        #expect(try await sql.integer("SELECT count(*)::int FROM pg_indexes WHERE tablename = 'water_level' AND indexname = 'water_level_level_m'") == 1)
        let counted = try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            try await hub.inspection.stats().entities["water_level"]
        }
        #expect(counted == 3, "a reading command sees the declared kind")
        // Indexing one more field adds its column, filled from the rows already stored.
        let evolved = Self.waterLevel.replacingOccurrences(of: "basin: {type: text}", with: "basin: {type: text, indexed: true}")
        try await Self.ingest(try MappingCatalog(directory: try Self.mappings(kinds: ["water_level": evolved])), at: location)
        #expect(try await sql.integer("SELECT count(*)::int FROM water_level WHERE basin = '长江'") == 2)
        // An indexed field declared as another type is refused, and nothing changes.
        let incompatible = evolved.replacingOccurrences(of: "level_m: {type: number", with: "level_m: {type: time")
        let catalog = try MappingCatalog(directory: try Self.mappings(kinds: ["water_level": incompatible]))
        await #expect {
            try await Hub.withHub(at: location, policies: catalog.policies, logger: TestDatabase.logger) { _ in }
        } throws: { error in
            "\(error)".contains("'level_m' is stored as number and declared time now")
        }
        #expect(try await sql.integer("SELECT count(*)::int FROM water_level WHERE level_m > 3.5") == 1)
        // A field no longer indexed loses its column; its values stay in the records.
        try await Self.ingest(try MappingCatalog(directory: try Self.mappings(kinds: ["water_level": Self.waterLevel])), at: location)
        #expect(try await sql.integer("SELECT count(*)::int FROM information_schema.columns WHERE table_name = 'water_level' AND column_name = 'basin'") == 0)
        #expect(try await sql.integer("SELECT count(*)::int FROM water_level WHERE data ->> 'basin' = '长江'") == 2)
    }

    @Test func aDeclaredReportKindJoinsIncidents() async throws {
        let report = Self.waterLevel + "reports: [reported_at, location, division_code]\n"
        let location = try await TestDatabase.makeFreshDatabase()
        try await Self.ingest(try MappingCatalog(directory: try Self.mappings(kinds: ["water_level": report])), at: location)
        #expect(try await OutsideSQL(location).integer("SELECT count(DISTINCT incident_id)::int FROM incident_report") >= 1)
    }

    @Test(arguments: [
        ("kind: work_order\n", "kind", "built-in"),
        ("kind: water_level\nfields: {source_time: {type: time}}\n", "fields", "cannot name a field"),
        ("kind: water_level\nfields: {level: {type: decimal}}\n", "fields.level.type", "text, number, time, boolean"),
        ("kind: water_level\nreports: [location]\n", "reports", "reported_at"),
        ("kind: river_level\n", "kind", "name the file after"),
    ])
    func mistakesInADeclarationNameTheKey(text: String, key: String, hint: String) throws {
        let folder = try Self.mappings(kinds: ["water_level": text])
        #expect {
            try MappingCatalog(directory: folder)
        } throws: { error in
            let error = error as? MappingCatalog.LoadError
            return error?.key == key && error?.message.contains(hint) == true && error?.file.hasSuffix("water_level.yaml") == true
        }
    }
}
