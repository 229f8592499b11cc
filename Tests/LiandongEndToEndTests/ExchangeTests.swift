import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongModel
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// The exchange drop folder: JSON-lines files read page by page through the real path, and the
/// benchmark that drives it.
@Suite(.tags(.database), .runsWithDatabase) struct ExchangeTests {
    /// A report in the shape `bench/peers/gen.py` writes. 350102 (鼓楼区) is a GB/T 2260 county
    /// code; 350101 is not one (gen.py writes such codes too) and is quarantined.
    static func line(_ number: Int, division: String = "350102", status: String = "reported", updated: String = "10:00") -> String {
        #"{"id":"FJ-2026-\#(String(format: "%06d", number))","source_system":"FJ-119-FIRE","category":"F01","severity":2,"#
            + #""status":"\#(status)","title":"住宅楼厨房起火","description":"现场有浓烟","address":"福建省福州市鼓楼区五一北路\#(number)号","#
            + #""admin_code":"\#(division)","lat":26.08,"lon":119.3\#(number % 10),"reported_at":"2026-01-0\#(1 + number % 5)T09:00:00+08:00","#
            + #""updated_at":"2026-01-06T\#(updated):00+08:00","reporter_phone":"13812345678","casualties":0,"#
            + #""units":[{"unit_id":"U0001","unit_name":"鼓山消防救援站","unit_type":"fire_engine","personnel":6,"#
            + #""dispatched_at":"2026-01-01T09:05:00+08:00","arrived_at":null}]}"#
    }

    static func write(_ lines: [String], name: String = "export-1.jsonl") throws -> URL {
        let folder = Scratch.path("exchange")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func aFolderIsReadPageByPageOnceWithBadCodesQuarantined() async throws {
        let lines = (1...23).map { Self.line($0, division: $0 % 10 == 0 ? "350101" : "350102") }
        let folder = try Self.write(lines)
        try await TestDatabase.withFreshHub(policies: try MappingFixture.repositoryCatalog().policies) { hub in
            let engine = SyncEngine(hub: hub, catalog: try MappingFixture.repositoryCatalog(), logger: TestDatabase.logger)
            let adapter = FolderSource(definition: try AdapterCatalog.repository().definition("exchange"), location: folder, pageSize: 5)
            let first = try await engine.sync(adapter)[0]
            #expect(first.error == nil)
            #expect(first.batches == 5, "23 lines in pages of 5")
            #expect(first.pulled == 23)
            #expect(first.summary.inserted == 21)
            #expect(first.summary.failures == 2, "350101 is not a GB/T 2260 code")
            let stats = try await hub.inspection.stats()
            #expect(stats.entities["exchange_report"] == 21)
            #expect(stats.incidents > 0, "exchange reports go through identity resolution")
            // A second file in the folder is read after the first; nothing of the first again.
            try (Self.line(1, status: "closed", updated: "11:00") + "\n").write(
                to: folder.appendingPathComponent("export-2.jsonl"), atomically: true, encoding: .utf8)
            let second = try await engine.sync(adapter)[0]
            #expect(second.pulled == 1)
            #expect(second.summary.updated == 1)
            #expect(try await hub.audit.verify().firstBad == nil)
        }
    }

    /// A line the exchange is still writing is not cut in two: the page ends before it, the files after
    /// it wait, and it is read whole once its newline comes (or the file has been left alone a while).
    @Test func aLineStillBeingWrittenIsReadWhole() async throws {
        let (first, second) = (Self.line(1), Self.line(2))
        let folder = try Self.write([first])
        let file = folder.appendingPathComponent("export-1.jsonl")
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(second.utf8.prefix(20)))
        try (Self.line(3) + "\n").write(to: folder.appendingPathComponent("export-2.jsonl"), atomically: true, encoding: .utf8)
        let source = FolderSource(definition: try AdapterCatalog.repository().definition("exchange"), location: folder, pageSize: 5)
        let stream = source.streams[0]
        let page = try await source.pull(stream, after: nil)
        #expect(page.payloads.map { String(decoding: $0.body, as: UTF8.self) } == [first + "\n"])
        let held = try await source.pull(stream, after: page.cursor)
        #expect(held.payloads.isEmpty && held.cursor == page.cursor, "the next file waits for the line")
        try handle.write(contentsOf: Data((String(second.utf8.dropFirst(20))! + "\n").utf8))
        try handle.close()
        let whole = try await source.pull(stream, after: page.cursor)
        #expect(whole.payloads.map { String(decoding: $0.body, as: UTF8.self) } == [second + "\n"])
        // A last line without its newline in a file left alone is taken as it is.
        try Data("{\"id\": \"tail\"}".utf8).write(to: folder.appendingPathComponent("export-3.jsonl"))
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: folder.appendingPathComponent("export-3.jsonl").path)
        let rest = try await source.pull(stream, after: try await source.pull(stream, after: whole.cursor).cursor)
        #expect(rest.payloads.map { String(decoding: $0.body, as: UTF8.self) } == ["{\"id\": \"tail\"}"])
    }

    @Test func benchIngestReportsEachPhase() async throws {
        let folder = try Self.write((1...12).map { Self.line($0) })
        let file = folder.appendingPathComponent("export-1.jsonl").path
        let location = try await TestDatabase.makeFreshDatabase()
        let output = try await CommandLineRunner().run([
            "bench", "ingest", "--input", file, "--input", file, "--page-size", "5", "--database-url", location.url, "--json",
        ])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        let phases = report?["phases"] as? [[String: Any]] ?? []
        #expect(phases.count == 2)
        #expect(phases.first?["records"] as? Int == 12)
        #expect(phases.first?["inserted"] as? Int == 12)
        #expect(phases.last?["unchanged"] as? Int == 12, "the second phase re-polls identical pages")
        let stages = phases.first?["stageSeconds"] as? [String: Double] ?? [:]
        #expect(Set(stages.keys) == ["read", "decode", "map", "resolve", "write"])
        #expect((report?["peakResidentMiB"] as? Double ?? 0) > 0)
        // The test server runs on this machine, so its CPU is read too; storing three pages takes some.
        #expect((phases.first?["serverCPUSeconds"] as? Double ?? 0) > 0)
    }

    /// `bench ingest --concurrent` runs its files as streams at the same time: each is reported, and
    /// so are they together; every record is in once, and the audit chain holds.
    @Test func benchIngestRunsStreamsAtOnce() async throws {
        let files = try (0..<3).map { part in
            try Self.write((1...8).map { Self.line(part * 100 + $0) }, name: "export-\(part).jsonl").appendingPathComponent("export-\(part).jsonl").path
        }
        let location = try await TestDatabase.makeFreshDatabase()
        let output = try await CommandLineRunner().run(
            ["bench", "ingest", "--concurrent", "--page-size", "3", "--database-url", location.url, "--json"] + files.flatMap { ["--input", $0] })
        #expect(output.status == 0, "\(output.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        let phases = report?["phases"] as? [[String: Any]] ?? []
        #expect(phases.map { $0["input"] as? String } == files)
        #expect(phases.allSatisfy { $0["inserted"] as? Int == 8 })
        let together = report?["together"] as? [String: Any]
        #expect(together?["streams"] as? Int == 3 && together?["records"] as? Int == 24)
        #expect((together?["recordsPerSecond"] as? Double ?? 0) > 0)
        let (reports, firstBad) = try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            (try await hub.inspection.stats().entities["exchange_report"], try await hub.audit.verify().firstBad)
        }
        #expect(reports == 24 && firstBad == nil)
        let sources = try await OutsideSQL(location).integer(
            "SELECT count(DISTINCT source_system) FROM exchange_report WHERE source_system IN ('exchange-1', 'exchange-2', 'exchange-3')")
        #expect(sources == 3, "each file is a source of its own")
    }

    /// `bench console` fills an empty database and times every page it names: each answers 200 with
    /// a body, and the report says how long each took.
    @Test func benchConsoleTimesEveryPage() async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        let output = try await CommandLineRunner().run([
            "bench", "console", "--records", "2000", "--repeat", "1", "--database-url", location.url, "--json",
        ])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        let timings = report?["timings"] as? [[String: Any]] ?? []
        #expect(timings.count > 15)
        for timing in timings {
            #expect(timing["status"] as? Int == 200, "\(timing)")
            #expect((timing["bytes"] as? Int ?? 0) > 0, "\(timing)")
            #expect((timing["medianMilliseconds"] as? Double ?? 0) > 0, "\(timing)")
        }
        #expect((report?["data"] as? [String: Any])?["workOrders"] as? Int == 2000)
        let again = try await CommandLineRunner().run(["bench", "console", "--records", "10", "--database-url", location.url])
        #expect(again.status != 0, "a database that holds records is refused")
    }

    /// Records sent one at a time are each committed and then delivered to the simulated receivers
    /// their agreements name (a fire is shared with 119), and the report says how long each took.
    @Test func benchLatencyReportsCommitsAndDeliveries() async throws {
        let folder = try Self.write([1, 12, 23].map { Self.line($0) })
        let location = try await TestDatabase.makeFreshDatabase()
        let output = try await CommandLineRunner().run([
            "bench", "latency", "--input", folder.appendingPathComponent("export-1.jsonl").path, "--changes", "3",
            "--interval", "0.2", "--database-url", location.url, "--json",
        ])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        #expect(report?["changes"] as? Int == 3)
        #expect((report?["commitP99"] as? Double ?? 0) >= (report?["commitP50"] as? Double ?? 0))
        #expect((report?["commitP50"] as? Double ?? 0) > 0)
        #expect((report?["deliveries"] as? Int ?? 0) >= 3, "each fire reaches 119 at least")
        #expect((report?["deliveryP50"] as? Double ?? 0) > 0)
    }
}
