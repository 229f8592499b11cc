import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// The database transport against a second database standing in for a shared exchange database
/// (中间库): tickets pulled by update time and id, a row committed late read through the overlap,
/// deliveries inserted once per idempotency key, and the conformance kit live against it.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct DatabaseTransportTests {
    static let adapter = """
        system: exchange-db
        transport: database
        format: json
        streams:
          - name: tickets
            mapping: exchange-db/ticket
            path: jjd
        paging:
          page_size: 2
          next: {time: gxsj, id: jjdbh}
          overlap: 1m
        receives:
          path: zb_transfer
          receipt: id
        """

    static let mapping = """
        version: 1
        source: exchange-db
        entity: exchange_report
        document: {format: json, encoding: utf-8, records: rows}
        id: jjdbh
        source_time: {path: gxsj, transforms: [time]}
        fields:
          report_no: {path: jjdbh, required: true}
          title: {path: nr, transforms: [trim]}
          division_code: {path: xzqh, transforms: [division]}
        """

    /// A project whose Adapters/ and Mappings/ hold the exchange database's folder.
    static func project() throws -> (folder: URL, catalog: MappingCatalog, agencies: AdapterCatalog) {
        let (folder, _) = try AgencyFolderTests.project()
        let agency = folder.appendingPathComponent("Adapters/exchange-db")
        try FileManager.default.createDirectory(at: agency.appendingPathComponent("samples"), withIntermediateDirectories: true)
        try adapter.write(to: agency.appendingPathComponent("adapter.yaml"), atomically: true, encoding: .utf8)
        try #"{"rows": [{"jjdbh": "J1", "gxsj": "2026-11-18T19:00:00", "nr": "东城区某路积水", "xzqh": "110101"}]}"#
            .write(to: agency.appendingPathComponent("samples/tickets.json"), atomically: true, encoding: .utf8)
        let mappings = folder.appendingPathComponent("Mappings/exchange-db")
        try FileManager.default.createDirectory(at: mappings, withIntermediateDirectories: true)
        try mapping.write(to: mappings.appendingPathComponent("ticket.yaml"), atomically: true, encoding: .utf8)
        return (
            folder, try MappingCatalog(directory: folder.appendingPathComponent("Mappings")),
            try AdapterCatalog(directory: folder.appendingPathComponent("Adapters"))
        )
    }

    static func insert(_ exchange: OutsideSQL, _ id: String, at time: String) async throws {
        _ = try await exchange.execute("INSERT INTO jjd VALUES ('\(id)', '\(time)', '工单 \(id)', '110101')")
    }

    @Test func ticketsArePulledLateCommitsReadAndDeliveriesInsertedOnce() async throws {
        let (folder, catalog, agencies) = try Self.project()
        let shared = try await TestDatabase.makeFreshDatabase()
        let exchange = OutsideSQL(shared)
        _ = try await exchange.execute(
            "CREATE TABLE jjd (jjdbh text PRIMARY KEY, gxsj timestamp NOT NULL, nr text, xzqh text)",
            """
            CREATE TABLE zb_transfer (id bigserial PRIMARY KEY, idempotency_key text NOT NULL UNIQUE, kind text NOT NULL,
                content_type text NOT NULL, body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())
            """)
        for n in 1...5 { try await Self.insert(exchange, "J\(n)", at: "2026-11-18 19:0\(n):00") }
        let adapter = try agencies.make(
            "exchange-db", settings: .init(url: shared.url), environment: [:], logger: TestDatabase.logger)
        try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
            let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
            let first = try await engine.sync(adapter)
            #expect(first.allSatisfy { $0.error == nil } && first.reduce(0) { $0 + $1.batches } >= 3, "pages of two: \(first)")
            #expect(try await hub.inspection.stats().entities["exchange_report"] == 5)
            // Committed late: its time is behind the cursor (19:05), inside the overlap.
            try await Self.insert(exchange, "J0", at: "2026-11-18 19:04:30")
            _ = try await engine.sync(adapter)
            #expect(try await hub.inspection.stats().entities["exchange_report"] == 6)
            let quiet = try await engine.sync(adapter)
            #expect(quiet.allSatisfy { $0.summary.inserted + $0.summary.updated == 0 })
        }
        let receiver = try #require(adapter.receiver)
        let message = OutboundMessage(idempotencyKey: "K-1", kind: .transfer, body: Array(#"{"no": 1}"#.utf8), contentType: "application/json")
        let receipt = try await receiver.push(message)
        #expect(try await receiver.push(message) == receipt)
        #expect(try await exchange.integer("SELECT count(*)::int FROM zb_transfer WHERE idempotency_key = 'K-1'") == 1)
        // The kit, live against it.
        let config = folder.appendingPathComponent("liandong.yaml").path
        let check = try await CommandLineRunner().run(["adapter", "check", "exchange-db", "--live", "--url", shared.url, "--deliver", "--config", config, "--json"])
        let rows = try AgencyFolderTests.rows(check)
        #expect(check.status == 0, "\(rows.filter { $0.result == "fail" }.map { "\($0.check): \($0.detail)" })")
        #expect(rows.contains { $0.check == "resume" && $0.result == "pass" })
        #expect(rows.contains { $0.check == "idempotent" && $0.result == "pass" })
    }
}
