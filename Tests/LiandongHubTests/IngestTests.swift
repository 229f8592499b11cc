import Foundation
@testable import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import PostgresNIO
import Testing

/// Work orders as the 12345 API sends them, for ingest tests.
enum WorkOrders {
    static let mapping = try! MappingFixture.repositoryCatalog().mapping(named: "hotline-12345/work-order")

    static func item(_ number: Int, status: String = "登记", updated: String = "2026-11-18 08:00:00", matter: String = "道路积水") -> String {
        """
        {"orderNo":"GD\(number)","appealType":"求助","matter":"\(matter)","status":"\(status)","citizenPhone":"13812345678",
         "areaCode":"310101","latitude":"31.24","longitude":"121.50","createTime":"2026-11-18 08:00:00","updateTime":"\(updated)"}
        """
    }

    static func page(_ items: [String]) -> String { #"{"code":0,"data":{"hasMore":false,"items":[\#(items.joined(separator: ","))]}}"# }
}

/// The hub's two kinds of id: a record's, derived so that a rebuild gives it again, and a new
/// incident's, ordered by time so that its index entries go to the right-hand end.
@Suite struct IdentifierTests {
    @Test func aRecordsIdIsDerivedFromKindSourceAndExternalID() {
        let record = CanonicalRecord(
            source: "hotline-12345", kind: .workOrder, externalID: "GD1", sourceTime: Date(), fields: [:],
            mapping: MappingRef(name: "hotline-12345/work-order", version: 1))
        // sha256("work_order␟hotline-12345␟GD1"), first 16 bytes, version 5 and variant bits set.
        #expect(IngestPlan.entityID(record).lowercasedText == "58e2b1e2-913a-5265-a4fb-4910f48f09c5")
    }

    @Test func newIncidentIdsSortByTheTimeTheyWereMade() {
        let start = Date(timeIntervalSince1970: 1_796_000_000)
        let times = [0, 0.01, 0.02, 1, 3600, 86_400 * 365].map { start.addingTimeInterval($0) }
        let ids = times.map { UUID.timeOrdered(at: $0).lowercasedText }
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { Array($0)[14] == "7" && "89ab".contains(Array($0)[19]) }, "\(ids)")
        // The first 48 bits are the milliseconds since 1970.
        #expect(ids[0].prefix(13) == String(format: "%08x-%04x", 1_796_000_000_000 >> 16, 1_796_000_000_000 & 0xFFFF))
        #expect(Set((0..<100).map { _ in UUID.timeOrdered(at: start) }).count == 100, "the rest is random")
    }
}

@Suite(.tags(.database), .runsWithDatabase, .serialized) struct IngestTests {
    @Test func identicalBytesAreANoOp() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let batch = WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(1), WorkOrders.item(2)])], cursor: "c1")
            let first = try await hub.ingest(batch)
            #expect(first.inserted == 2)
            let before = try await hub.inspection.stats()
            let second = try await hub.ingest(batch)
            #expect(second.duplicatePayloads == 1)
            #expect(second.inserted + second.updated + second.unchanged == 0)
            let after = try await hub.inspection.stats()
            #expect(after.digest == before.digest)
            #expect(after.auditHead == before.auditHead)
            #expect(after.rawPayloads == 1)
            #expect(try await hub.streams.cursor(source: "hotline-12345", stream: "test") == "c1")
        }
    }

    @Test func samePageRepolledInAnotherOrderChangesNothing() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(1), WorkOrders.item(2)])]))
            let head = try await hub.inspection.stats().auditHead
            let again = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(2), WorkOrders.item(1)])]))
            #expect(again.unchanged == 2)
            #expect(again.newPayloads == 1)
            #expect(try await hub.inspection.stats().auditHead == head)
        }
    }

    @Test func newerVersionUpdatesAndKeepsTheReplacedValue() async throws {
        var revised = WorkOrders.mapping
        revised.spec.version += 1
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(1)])]))
            let summary = try await hub.ingest(
                revised.batch([WorkOrders.page([WorkOrders.item(1, status: "办结", updated: "2026-11-18 09:00:00")])]))
            #expect(summary.updated == 1)
            let entity = try await hub.inspection.entity("hotline-12345:GD1")
            #expect(entity.version == 2)
            #expect(entity.fields.objectValue?["status"] == .string("completed"))
            let replaced = try #require(entity.alternates.first { $0.field == "status" })
            #expect(replaced.value == .string("registered"))
            #expect(replaced.reason == "replaced")
            #expect(replaced.mapping == WorkOrders.mapping.ref.description, "the replaced value is the first mapping's")
            #expect(entity.mapping == revised.ref.description)
            let trail = try await hub.audit.trail(of: entity.id.uuidString.lowercased())
            #expect(trail.map(\.action) == ["insert", "update"])
        }
    }

    /// Versions arriving in any order end in the same entity and the same losing values.
    @Test func outOfOrderArrivalGivesTheSameState() async throws {
        let versions = [
            WorkOrders.item(1, status: "登记", updated: "2026-11-18 08:00:00"),
            WorkOrders.item(1, status: "派单", updated: "2026-11-18 08:10:00"),
            WorkOrders.item(1, status: "办结", updated: "2026-11-18 09:00:00", matter: "积水已排"),
        ]
        var digests: [String] = []
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
            digests.append(
                try await TestDatabase.withFreshHub(policies: .none) { hub in
                    for index in order {
                        _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([versions[index]])]))
                    }
                    let entity = try await hub.inspection.entity("hotline-12345:GD1")
                    #expect(entity.fields.objectValue?["status"] == .string("completed"))
                    return try await hub.inspection.stats().digest
                })
        }
        #expect(Set(digests).count == 1)
    }

    @Test func cancelledWarningIsNotActive() async throws {
        let mapping = try MappingFixture.repositoryCatalog().mapping(named: "weather/cap-alert")
        func cap(_ id: String, _ type: String, references: String = "") -> String {
            """
            <alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>\(id)</identifier><sender>13013241600000</sender>
            <sent>2026-08-26T16:09:13+08:00</sent><status>Actual</status><msgType>\(type)</msgType><scope>Public</scope>
            \(references.isEmpty ? "" : "<references>\(references)</references>")
            <info><event>暴雨</event><urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>
            <expires>2099-01-01T00:00:00+08:00</expires><area><areaDesc>元氏县</areaDesc></area></info></alert>
            """
        }
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            _ = try await hub.ingest(mapping.batch([cap("W1", "Alert")]))
            #expect(try await hub.inspection.stats().activeWarnings == 1)
            _ = try await hub.ingest(mapping.batch([cap("W2", "Cancel", references: "13013241600000,W1,2026-08-26T16:09:13+08:00")]))
            let stats = try await hub.inspection.stats()
            #expect(stats.activeWarnings == 0)
            #expect(stats.links == 1)
            #expect(try await hub.inspection.entity("weather:W1").state == "cancelled")
        }
    }

    @Test func migrationsAreIdempotent() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let applied = try await hub.migrate()
            #expect(applied.isEmpty)
        }
    }

    /// Migration 0011: wide columns are compressed with lz4 when the server has it, else left as they were.
    @Test func wideColumnsUseLZ4WhereTheServerHasIt() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let lz4 = (try? await hub.rows("SELECT set_config('default_toast_compression', 'lz4', false)", logger: hub.logger)) != nil
            var methods: [String: String] = [:]
            for try await (column, method) in try await hub.rows(
                """
                SELECT attrelid::regclass::text || '.' || attname, attcompression::text FROM pg_attribute
                WHERE (attrelid, attname) IN (('raw_payload'::regclass, 'body'), ('exchange_report'::regclass, 'data'),
                                              ('audit_entry'::regclass, 'body'))
                """, logger: hub.logger
            ).decode((String, String).self) {
                methods[column] = method
            }
            #expect(methods.count == 3)
            #expect(methods.values.allSatisfy { $0 == (lz4 ? "l" : "") }, "\(methods)")
        }
    }
}

@Suite(.tags(.database), .runsWithDatabase, .serialized) struct AuditTests {
    @Test func chainVerifiesAndTamperingIsNamed() async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page((1...5).map { WorkOrders.item($0) })]))
            let clean = try await hub.audit.verify()
            #expect(clean.firstBad == nil)
            #expect(clean.checked == 15, "per work order: insert, its incident's link and creation")
            try await OutsideSQL(location).execute(
                "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only",
                "UPDATE audit_entry SET body = replace(body, 'registered', 'completed') WHERE seq = 3",
                "ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")
            let tampered = try await hub.audit.verify()
            #expect(tampered.firstBad == 3)
            #expect(tampered.problem?.contains("body was changed") == true)
        }
    }

    /// A damaged stored value is an error naming what is wrong, not an empty incident shown as if
    /// it were so (before, a stored value that was not an object read as `{}`).
    @Test func damagedStoredJSONIsAnError() async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(1)])]))
            _ = try await hub.incidents.file("1")
            try await OutsideSQL(location).execute("UPDATE incident SET data = '[]'")
            await #expect {
                try await hub.incidents.file("1")
            } throws: { error in
                (error as? HubError)?.code == .corruptData && "\(error)".contains("not an object")
            }
        }
    }

    /// Whatever column of an entry is changed behind the trigger's back, verify names that entry.
    @Test(arguments: [
        "body = replace(body, 'registered', 'completed')", "action = 'delete'", "entity_id = 'someone-else'",
        "entity_kind = 'warning'", "at = at + interval '1 hour'", "hash = sha256(hash)", "prev_hash = sha256(prev_hash)",
    ])
    func everyColumnIsCovered(change: String) async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page((1...4).map { WorkOrders.item($0) })]))
            try await OutsideSQL(location).execute(
                "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only", "UPDATE audit_entry SET \(change) WHERE seq = 2")
            #expect(try await hub.audit.verify().firstBad == 2)
        }
    }

    /// While batches commit (a running `serve`), verification reads a consistent prefix of the chain:
    /// it once read the entries, then a head that had moved on, and reported tampering.
    @Test func verifyingWhileBatchesCommitFindsNothingWrong() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            // A long chain makes each verification take a while, so batches commit in the middle of it.
            _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page((1000...1400).map { WorkOrders.item($0) })]))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for n in 1...40 {
                        _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(n)])]))
                    }
                }
                for _ in 0..<30 {
                    let verification = try await hub.audit.verify()
                    #expect(verification.firstBad == nil, "\(verification)")
                }
                try await group.waitForAll()
            }
        }
    }

    /// A page writes its own source's records before it queues for the audit head, so that pages of
    /// other sources run beside it until identity; before, it queued first and wrote nothing meanwhile.
    @Test(.timeLimit(.minutes(1))) func aPageWritesItsRecordsBeforeItQueuesForTheAuditHead() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let ingest = try await Self.whileTheAuditHeadIsHeld(by: hub, waiters: 1) {
                [Task { try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(1)])])) }]
            } whileWaiting: {
                let writing = try await Self.integer(
                    hub,
                    """
                    SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                    WHERE a.wait_event_type = 'Lock' AND l.granted AND l.mode = 'RowExclusiveLock' AND l.relation = 'work_order'::regclass
                      AND a.datname = current_database()
                    """)
                #expect(writing == 1, "the waiting page has written its work orders")
            }
            #expect(ingest.first?.inserted == 1)
            #expect(try await hub.audit.verify().firstBad == nil)
        }
    }

    /// Two streams of one source take turns for their records (the source's lock): the later page plans
    /// against what the earlier one wrote, so the newest source time still wins. Without the lock both
    /// planned against the first version and the page that wrote last won.
    @Test(.timeLimit(.minutes(1))) func twoStreamsOfOneSourceTakeTurnsForTheirRecords() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(1)])]))
            let newer = WorkOrders.mapping.batch(
                [WorkOrders.page([WorkOrders.item(1, status: "办结", updated: "2026-11-18 10:00:00")])], stream: "a")
            let older = WorkOrders.mapping.batch(
                [WorkOrders.page([WorkOrders.item(1, status: "办理", updated: "2026-11-18 09:00:00")])], stream: "b")
            _ = try await Self.whileTheAuditHeadIsHeld(by: hub, waiters: 2) {
                // The newer page first, queued at the head; then the older one, queued behind it.
                var tasks = [Task { try await hub.ingest(newer) }]
                try await Self.waitForLockWaiters(1, in: hub)
                tasks.append(Task { try await hub.ingest(older) })
                return tasks
            }
            let newest = newer.payloads[0].records[0].fields["status"]?.stringValue
            var stored: [(String, Int)] = []
            for try await row in try await hub.rows("SELECT data ->> 'status', version FROM work_order", logger: hub.logger).decode((String, Int).self) {
                stored.append(row)
            }
            #expect(stored.map(\.0) == [newest].compactMap { $0 })
            #expect(stored.map(\.1) == [2])
            // Every value that lost is kept: the first version's, replaced by the newer page; the older page's.
            var alternates: [String] = []
            for try await value in try await hub.rows(
                "SELECT (value #>> '{}') || ' ' || reason FROM alternate_value WHERE field = 'status' ORDER BY id", logger: hub.logger
            ).decode(String.self) {
                alternates.append(value)
            }
            #expect(alternates == ["registered replaced", "in_progress older"])
            #expect(try await hub.audit.verify().firstBad == nil)
        }
    }

    /// A rebuild's transactions (clearing, then storing payloads again) take every source's records for
    /// themselves: a page that comes meanwhile waits for them before it writes a single record, so a
    /// clearing never removes half of a page.
    @Test(.timeLimit(.minutes(1))) func aPageWaitsForARebuildBeforeItWritesARecord() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let (release, releasing) = AsyncStream<Void>.makeStream()
            let rebuild = Task {
                try await hub.withIngestTransaction(writing: .all) { _, _ in
                    for await _ in release {}
                }
            }
            // pg_locks is the server's: this test's database only, as other tests run beside it.
            let allRecords = "locktype = 'advisory' AND classid = \(UInt32(IngestTransaction.recordLockClass)) AND objsubid = 2 AND \(Self.here)"
            while try await Self.integer(hub, "SELECT count(*) FROM pg_locks WHERE \(allRecords) AND granted") == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            let exclusive = try await Self.integer(hub, "SELECT count(*) FROM pg_locks WHERE \(allRecords) AND mode = 'ExclusiveLock'")
            #expect(exclusive == 1, "the rebuild holds every source's records alone")
            let ingest = Task { try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(1)])])) }
            try await Self.waitForLockWaiters(1, in: hub)
            let waiting = try await Self.integer(hub, "SELECT count(*) FROM pg_locks WHERE \(allRecords) AND NOT granted AND mode = 'ShareLock'")
            #expect(waiting == 1, "the page waits for every source's records")
            let writing = try await Self.integer(
                hub, "SELECT count(*) FROM pg_locks WHERE mode = 'RowExclusiveLock' AND relation = 'work_order'::regclass AND \(Self.here)")
            #expect(writing == 0, "the page has written no work order")
            releasing.finish()
            try await rebuild.value
            #expect(try await ingest.value.inserted == 1)
            #expect(try await hub.audit.verify().firstBad == nil)
        }
    }

    /// A new incident takes a time-ordered id, and is owed to each receiver once per version: owing the
    /// same version again (as a retried transaction would) writes no second outbox row (migration 0017
    /// keys the outbox by receiver, entity and version).
    @Test func anIncidentVersionIsOwedToEachReceiverOnce() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        // A kitchen fire reported through the exchange: an accident, owed to 119 and 110.
        let line = #"{"id":"FJ-2026-000001","source_system":"FJ-119-FIRE","category":"F01","severity":2,"status":"reported","#
            + #""title":"住宅楼厨房起火","address":"福建省福州市鼓楼区五一北路1号","admin_code":"350102","lat":26.08,"lon":119.3,"#
            + #""reported_at":"2026-01-01T09:00:00+08:00","updated_at":"2026-01-01T09:10:00+08:00","units":[]}"#
        try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
            _ = try await hub.ingest(try catalog.mapping(named: "exchange/report").batch([line]))
            var incidents: [UUID] = []
            for try await id in try await hub.rows("SELECT id FROM incident", logger: hub.logger).decode(UUID.self) { incidents.append(id) }
            #expect(incidents.count == 1)
            #expect(incidents.allSatisfy { Array($0.lowercasedText)[14] == "7" }, "\(incidents)")
            let owed = try await Self.integer(hub, "SELECT count(*) FROM outbox WHERE entity_kind = 'incident'")
            #expect(owed > 0)
            try await hub.withIngestTransaction { tx, _ in
                try await tx.enqueueDeliveries(for: ChangedEntities(byKind: [(.incident, incidents)]))
            }
            #expect(try await Self.integer(hub, "SELECT count(*) FROM outbox WHERE entity_kind = 'incident'") == owed)
        }
    }

    /// Holds the audit head in a transaction of its own while `start` starts ingests, until `waiters`
    /// statements of the database wait for a lock; runs `whileWaiting` then, lets go, and returns what
    /// the ingests returned.
    static func whileTheAuditHeadIsHeld(
        by hub: Hub, waiters: Int, _ start: @Sendable () async throws -> [Task<IngestSummary, any Error>],
        whileWaiting: @Sendable () async throws -> Void = {}
    ) async throws -> [IngestSummary] {
        let tasks = try await hub.withTransaction { holder in
            try await holder.guardedQuery("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE", logger: hub.logger)
            let tasks = try await start()
            try await waitForLockWaiters(waiters, in: hub)
            try await whileWaiting()
            return tasks
        }
        var summaries: [IngestSummary] = []
        for task in tasks { summaries.append(try await task.value) }
        return summaries
    }

    /// Waits until `count` statements of the hub's database wait for a lock.
    static func waitForLockWaiters(_ count: Int, in hub: Hub) async throws {
        while try await integer(hub, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            < count
        {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// A `pg_locks` condition: locks in the current database (the view shows the whole server's).
    static let here = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"

    static func integer(_ hub: Hub, _ sql: String) async throws -> Int {
        for try await value in try await hub.rows(PostgresQuery(unsafeSQL: sql), logger: hub.logger).decode(Int.self) { return value }
        return 0
    }

    @Test func auditEntriesRefuseUpdateAndDelete() async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            _ = try await hub.ingest(WorkOrders.mapping.batch([WorkOrders.page([WorkOrders.item(1)])]))
            for statement in ["UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry", "TRUNCATE audit_entry"] {
                await #expect(throws: PSQLError.self) {
                    try await OutsideSQL(location).execute(statement)
                }
            }
            #expect(try await hub.audit.verify().checked == 3)
        }
    }
}

@Suite(.tags(.database), .runsWithDatabase, .serialized) struct QuarantineTests {
    static func catalog(version: Int, matterRule: String) throws -> MappingCatalog {
        let text = try String(contentsOf: Repository.mappings.appendingPathComponent("hotline-12345/work-order.yaml"), encoding: .utf8)
            .replacingOccurrences(of: #"(?m)^version: \d+"#, with: "version: \(version)", options: .regularExpression)
            .replacingOccurrences(of: "matter: {path: matter, transforms: [trim]}", with: "matter: {path: matter, transforms: [trim\(matterRule)]}")
        return try MappingFixture.catalog(["hotline-12345/work-order.yaml": text])
    }

    /// A mapping that refuses a value quarantines the record; after the mapping is fixed, a dry run
    /// shows what replay would do and changes nothing; the replay then stores it, audited.
    @Test func quarantineThenReplayAfterAMappingFix() async throws {
        let strict = try Self.catalog(version: 1, matterRule: ", {allowed: [道路积水]}")
        let fixed = try Self.catalog(version: 2, matterRule: "")
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let page = WorkOrders.page([WorkOrders.item(1), WorkOrders.item(2, matter: "噪音扰民")])
            let summary = try await hub.ingest(try strict.mapping(named: "hotline-12345/work-order").batch([page]))
            #expect(summary.inserted == 1)
            #expect(summary.failures == 1)
            let groups = try await hub.quarantine.groups(source: nil)
            #expect(groups.map(\.path) == ["matter"])
            #expect(groups.map(\.rule) == ["allowed"])
            let id = try #require(groups.first?.ids.first)
            let failure = try await hub.quarantine.failure(id)
            #expect(failure.externalID == "GD2")
            #expect(failure.mapping == MappingRef(name: "hotline-12345/work-order", version: 1))
            #expect(failure.failures.first?.value == "噪音扰民")

            let stillStrict = try await SyncEngine(hub: hub, catalog: strict, logger: hub.logger).replay([id], dryRun: false, by: .test)
            #expect(stillStrict.first?.failures.isEmpty == false)

            let engine = SyncEngine(hub: hub, catalog: fixed, logger: hub.logger)
            let dry = try await engine.replay([id], dryRun: true, by: .test)
            #expect(dry.first?.failures.isEmpty == true)
            #expect(dry.first?.changes.isEmpty == false)
            #expect(try await hub.inspection.stats().entities["work_order"] == 1)

            let replayed = try await engine.replay([id], dryRun: false, by: .test)
            #expect(replayed.first?.summary.inserted == 1)
            let stats = try await hub.inspection.stats()
            #expect(stats.entities["work_order"] == 2)
            #expect(stats.failures["open"] == 0)
            #expect(stats.failures["replayed"] == 1)
            #expect(try await hub.inspection.entity("hotline-12345:GD2").mapping.contains("2"))
            #expect(try await hub.audit.trail(of: "\(id)").map(\.action).contains("replay"))
            #expect(try await hub.audit.verify().firstBad == nil)
            await #expect(throws: HubError.self, "a replayed failure is not replayed twice") {
                try await engine.replay([id], dryRun: false, by: .test)
            }
        }
    }

    /// A replay writes its source's records, so it waits while a page of that source holds them (the
    /// source's lock, taken before the audit head) instead of planning against what the page is writing.
    @Test(.timeLimit(.minutes(1))) func aReplayWaitsForAPageOfItsSource() async throws {
        let strict = try Self.catalog(version: 1, matterRule: ", {allowed: [道路积水]}")
        let fixed = try Self.catalog(version: 2, matterRule: "")
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let page = WorkOrders.page([WorkOrders.item(1), WorkOrders.item(2, matter: "噪音扰民")])
            _ = try await hub.ingest(try strict.mapping(named: "hotline-12345/work-order").batch([page]))
            let id = try #require(try await hub.quarantine.groups(source: nil).first?.ids.first)
            let (release, releasing) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await hub.withRecordTransaction(writing: .sources(["hotline-12345"])) { _ in
                    for await _ in release {}
                }
            }
            let source = "locktype = 'advisory' AND classid = \(UInt32(IngestTransaction.sourceLockClass)) AND objsubid = 2 AND \(AuditTests.here)"
            while try await AuditTests.integer(hub, "SELECT count(*) FROM pg_locks WHERE \(source) AND granted") == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            let replay = Task { try await SyncEngine(hub: hub, catalog: fixed, logger: hub.logger).replay([id], dryRun: false, by: .test) }
            // Until the replay waits for the source, or has finished without waiting.
            var waiting = 0
            for _ in 0..<100 where waiting == 0 {
                try await Task.sleep(for: .milliseconds(20))
                waiting = try await AuditTests.integer(hub, "SELECT count(*) FROM pg_locks WHERE \(source) AND NOT granted")
            }
            #expect(waiting == 1, "the replay waits for the page's source")
            releasing.finish()
            try await holder.value
            #expect(try await replay.value.first?.summary.inserted == 1)
            #expect(try await hub.audit.verify().firstBad == nil)
        }
    }

    @Test func ignoringAFailureIsAudited() async throws {
        let strict = try Self.catalog(version: 1, matterRule: ", {allowed: [道路积水]}")
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            _ = try await hub.ingest(
                try strict.mapping(named: "hotline-12345/work-order").batch([WorkOrders.page([WorkOrders.item(2, matter: "x")])]))
            let id = try #require(try await hub.quarantine.openIDs().first)
            try await hub.quarantine.ignore(id, by: ActingUser("test", reason: "test record"))
            #expect(try await hub.quarantine.failure(id).status == "ignored")
            #expect(try await hub.audit.trail(of: "\(id)").map(\.action) == ["quarantine", "ignore"])
            await #expect(throws: HubError.self) { try await hub.quarantine.ignore(id, by: ActingUser("test", reason: "again")) }
        }
    }

    @Test func aDocumentThatDoesNotParseIsKeptWhole() async throws {
        try await TestDatabase.withFreshHub(policies: .none) { hub in
            let summary = try await hub.ingest(WorkOrders.mapping.batch([#"{"code":0,"data":{"items":[{"orderNo":"#]))
            #expect(summary.failures == 1)
            let failure = try await hub.quarantine.failure(try #require(try await hub.quarantine.openIDs().first))
            #expect(failure.recordIndex == -1)
            #expect(failure.failures.first?.rule == .document)
            #expect(String(decoding: failure.body, as: UTF8.self).hasPrefix(#"{"code":0"#))
        }
    }
}

@Suite struct AuditChainTests {
    /// A time half a microsecond from a millisecond boundary still reads back as the hashed text.
    @Test func entryTimesSitOnWholeMilliseconds() {
        let awkward = Date(timeIntervalSince1970: 1_795_000_000.012_499_6)
        let entries = AuditChain.chain(
            [AuditDraft(action: .insert, entityKind: "work_order", entityID: "x", content: [:])],
            after: (0, AuditChain.genesis), at: awkward)
        let stored = Date(timeIntervalSince1970: (entries[0].at.timeIntervalSince1970 * 1_000_000).rounded() / 1_000_000)
        #expect(entries[0].body.contains("\"at\":\"\(stored.canonicalText)\""))
    }
}

@Suite struct IdentityWindowTests {
    /// Reports are looked for near each changed report, not across the span between the first and
    /// the last: a page of changes spread over months loads what is near each change.
    @Test func windowsSurroundEachTimeAndMergeWhenTheyOverlap() {
        let t = { (hours: Double) in Date(timeIntervalSince1970: 1_790_000_000 + hours * 3600) }
        let windows = IncidentResolver.windows(around: [t(100), t(0), t(1), t(50)], limit: 3600)
        #expect(windows.map(\.from) == [t(-1), t(49), t(99)])
        #expect(windows.map(\.to) == [t(2), t(51), t(101)])
        #expect(IncidentResolver.windows(around: [], limit: 3600).isEmpty)
    }
}

@Suite struct TableStatisticsTests {
    /// The tables' statistics are looked at each time another thousand records have been written.
    @Test func looksAfterEachThousandRecords() {
        let statistics = TableStatistics()
        let due = [250, 250, 250, 250, 1, 998, 1, 5000].map { statistics.recordWrites($0) }
        #expect(due == [false, false, false, true, false, false, true, true])
    }
}

@Suite(.tags(.database), .runsWithDatabase) struct EmbeddedLauncherTests {
    /// As root the server runs as `postgres`; a data directory that user cannot reach is refused up
    /// front, naming the folder and the fixes. As an ordinary user the same folder is fine.
    @Test func unreachableDataDirectoryIsNamed() throws {
        let parent = Scratch.path("closed")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: parent) }
        #expect(chmod(parent.path, 0o700) == 0)
        let embedded = try EmbeddedPostgres(dataDirectory: parent.appendingPathComponent("data"), logger: TestDatabase.logger)
        if getuid() == 0 {
            #expect {
                try embedded.checkServerUserCanReach(parent.appendingPathComponent("data"))
            } throws: { error in
                let text = "\(error)"
                return text.contains("cannot enter \(parent.path)") && text.contains("--data-dir")
            }
        } else {
            #expect(throws: Never.self) { try embedded.checkServerUserCanReach(parent.appendingPathComponent("data")) }
        }
    }
}
