import Foundation
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// The emergency bureau both ways: its reports join incidents and decide grade and response level,
/// its instructions reach the agencies they address and each addressee's acknowledgement and
/// feedback come back to it, and it is notified of the incidents its agreement admits.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct BureauTests {
    @Test(.timeLimit(.minutes(3))) func instructionsReachTheirAddresseesAndTheirRepliesReachTheBureau() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let bureau = AgencySimulator(.init(agency: .bureau, seed: 11, records: 40))
        let fire = AgencySimulator(.init(agency: .fire, seed: 11, records: 40))
        let police = AgencySimulator(.init(agency: .police, seed: 11, records: 10))
        let hotline = AgencySimulator(.init(agency: .hotline, seed: 11, records: 5))
        let agencies = [bureau, fire, police, hotline]
        let location = try await TestDatabase.makeFreshDatabase()
        try await AgencySimulator.withRunning(all: agencies) {
            try await Hub.withHub(at: location, policies: catalog.policies, logger: TestDatabase.logger) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: try agencies.map { try $0.makeTarget() }) {
                    for agency in agencies { _ = try await engine.sync(try agency.makeAdapter()) }
                    #expect(try await hub.outbox.waitForDeliveries())
                    // The addressees' replies, pulled back, and what they owe the bureau.
                    _ = try await engine.sync(try fire.makeAdapter())
                    _ = try await engine.sync(try police.makeAdapter())
                    #expect(try await hub.outbox.waitForDeliveries())
                }
                let stats = try await hub.inspection.stats()
                #expect(stats.entities["bureau_incident"] == Set(bureau.timeline.versions.map(\.id)).count)
                #expect(stats.entities["instruction"] == Set(bureau.instructions.versions.map(\.id)).count)
                #expect(stats.entities["resource"] == Set(bureau.resources.versions.map(\.id)).count)
                #expect(stats.failures["open"] == 0)

                // Every addressee of every instruction has a receipt, and got the instruction.
                let receipts = try await hub.outbox.instructionReceipts()
                let addressed = bureau.instructions.versions.reduce(0) { $0 + ($1["JSDW"]?.split(separator: ";").count ?? 0) }
                #expect(!receipts.isEmpty && receipts.count == addressed)
                #expect(receipts.allSatisfy { $0.delivery == "delivered" }, "\(receipts.map(\.delivery))")
                for receiver in [fire, police, hotline] {
                    let system = receiver.configuration.agency.rawValue
                    let got = receiver.inbox.documents.filter { $0.kind == "instruction" }
                    #expect(got.count == receipts.filter { $0.addressee == system }.count, "\(system)")
                }
                // 119 signed and reported back; 110 only signed; 12345 has no reply list: both are
                // overdue, the simulated deadlines having passed.
                let byAddressee = Dictionary(grouping: receipts, by: \.addressee)
                #expect(byAddressee["fire-119"]?.allSatisfy { $0.state == "answered" && !$0.overdue && $0.feedback != nil } == true)
                #expect(
                    byAddressee["police-110"]?.allSatisfy {
                        $0.state == "acknowledged" && $0.overdue && $0.acknowledgedBy == SimulatedInbox.instructionPost
                    } == true)
                #expect(byAddressee["hotline-12345"]?.allSatisfy { $0.state == "delivered" && $0.overdue } == true)
                let overdue = try await hub.outbox.instructionReceipts(overdueOnly: true)
                #expect(Set(overdue.map(\.addressee)) == ["police-110", "hotline-12345"])

                // The bureau heard each reply: 119's with its feedback, 110's signature alone.
                let feedback = bureau.inbox.documents.filter { $0.kind == "instruction_feedback" }.compactMap {
                    try? FieldValue(jsonText: $0.text).objectValue
                }
                let answered = receipts.filter { $0.acknowledgedAt != nil }
                #expect(feedback.count == answered.count)
                #expect(feedback.contains { $0["JSDW"] == .string("消防救援支队") && $0["FKNR"] != nil })
                #expect(feedback.contains { $0["JSDW"] == .string("公安局指挥中心") && $0["FKNR"] == nil && $0["QSR"] != nil })
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
        // Admins follow them up from the command line, and in the file of the incident they concern.
        let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url])
        let listed = try await cli.run(["instructions", "list", "--overdue", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let rows = try #require(try FieldValue(jsonText: listed.stdout).arrayValue)
        #expect(!rows.isEmpty && rows.allSatisfy { $0.objectValue?["overdue"] == .bool(true) && $0.objectValue?["feedback"] == nil })
        let instruction = try #require(bureau.instructions.versions.first)
        let shown = try await cli.run(["incidents", "show", "emergency-bureau:\(instruction["GLSJBH"]!)", "--json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        let file = try #require(try FieldValue(jsonText: shown.stdout).objectValue)
        let numbers = file["instructions"]?.arrayValue?.compactMap { $0.objectValue?["instructionNo"]?.stringValue } ?? []
        #expect(Set(numbers) == [instruction.id] && numbers.count == instruction["JSDW"]!.split(separator: ";").count)
        // The resource registers, by type and division.
        let shelters = try await cli.run(["resources", "list", "--type", "shelter", "--json"])
        #expect(shelters.status == 0, "\(shelters.stderr)")
        let shelterRows = try #require(try FieldValue(jsonText: shelters.stdout).arrayValue).compactMap(\.objectValue)
        #expect(Set(shelterRows.compactMap { $0["number"]?.stringValue }) == Set(bureau.resources.versions.filter { $0["ZYLX"] == "05" }.map(\.id)))
        let beijing = try await cli.run(["resources", "list", "--division", "1101", "--json"])
        let inBeijing = try #require(try FieldValue(jsonText: beijing.stdout).arrayValue).compactMap { $0.objectValue?["divisionCode"]?.stringValue }
        #expect(!inBeijing.isEmpty && inBeijing.allSatisfy { $0.hasPrefix("1101") })
        #expect(inBeijing.count == Set(bureau.resources.versions.filter { $0["XZQH"]!.hasPrefix("1101") }.map(\.id)).count)
        let unknown = try await cli.run(["resources", "list", "--type", "boats"])
        #expect(unknown.status == 64 && unknown.stderr.contains("expected one of: rescue_team"), "a wrong command line: \(unknown.stderr)")
    }

    @Test(.timeLimit(.minutes(3))) func theBureauDecidesGradesAndIsNotifiedOfWhatItsAgreementAdmits() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        let bureau = AgencySimulator(.init(agency: .bureau, seed: 5, records: 40))
        let fire = AgencySimulator(.init(agency: .fire, seed: 5, records: 40))
        try await AgencySimulator.withRunning(all: [bureau, fire]) {
            try await TestDatabase.withFreshHub(policies: catalog.policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
                try await DeliveryPusher.running(hub: hub, catalog: catalog, targets: [try bureau.makeTarget()]) {
                    _ = try await engine.sync(try fire.makeAdapter())
                    _ = try await engine.sync(try bureau.makeAdapter())
                    #expect(try await hub.outbox.waitForDeliveries(to: "emergency-bureau"))
                }
                // A bureau report names the 119 alarm it grew from: one incident, graded by the bureau.
                let reported = Dictionary(bureau.timeline.versions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }).values
                    .filter { $0["GLJQBH"] != nil }
                #expect(!reported.isEmpty)
                let incidents = try await hub.incidents.list()
                for report in reported {
                    let incident = try #require(incidents.first { $0.reports.contains("emergency-bureau:\(report.id)") }, "\(report.id)")
                    #expect(incident.reports.contains("fire-119:\(report["GLJQBH"]!)"))
                    let file = try await hub.incidents.file(incident.id.uuidString)
                    let decided = Dictionary(uniqueKeysWithValues: file.fields.map { ($0.name, $0.value) })
                    #expect(decided["grade"] != nil && decided["response_level"] != nil && decided["report_stage"] != nil)
                }
                // Notified: incidents of 119's alarms, graded or not; never one only the bureau reported.
                let sent = bureau.inbox.documents.filter { $0.kind == "incident" }.compactMap { try? FieldValue(jsonText: $0.text).objectValue }
                #expect(!sent.isEmpty)
                #expect(sent.contains { $0["SJDJ"] != nil } && sent.contains { $0["SJDJ"] == nil })
                let delivered = Set(sent.compactMap { $0["SJBH"]?.stringValue })
                for incident in incidents where incident.reports.allSatisfy({ $0.hasPrefix("emergency-bureau:") }) {
                    #expect(!delivered.contains(incident.id.uuidString.lowercased()))
                }
            }
        }
    }
}
