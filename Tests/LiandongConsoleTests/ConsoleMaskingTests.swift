import Foundation
import HTTPTypes
import HummingbirdTesting
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// Personal data searched for in every answer a user without `personal_data` gets, on a hub holding
/// what the simulated agencies sent: callers' and patients' phone numbers, names, conditions.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct ConsoleMaskingTests {
    @Test(.timeLimit(.minutes(5))) func noAnswerToAViewerHoldsPersonalData() async throws {
        let catalog = try MappingFixture.repositoryCatalog()
        try await ConsoleHarness.with(catalog: catalog, seed: { hub in
            let engine = SyncEngine(hub: hub, catalog: catalog, logger: hub.logger)
            for agency in [AgencySimulator.Agency.hotline, .fire, .police, .ambulance, .bureau] {
                let simulator = AgencySimulator(.init(agency: agency, seed: 21, records: 30))
                if agency == .fire { simulator.faults.inject(.malformedRecord) }
                _ = try await simulator.withRunning { try await engine.sync(try $0.makeAdapter(pageSize: 10)) }
            }
        }) { console in
            let personal = try await Self.personalValues(in: console)
            #expect(personal.count > 20, "the agencies sent personal data to look for")
            let viewer = try await console.user("viewer", grants: ["viewer", "auditor"])
            var answers: [(String, String)] = []
            func ask(_ uri: String) async throws -> String {
                let response = try await console.api(.get, uri, token: viewer)
                #expect(response.status == .ok, "\(uri)")
                answers.append((uri, response.text))
                return response.text
            }
            for uri in ["/api/v1/overview", "/api/v1/streams", "/api/v1/loops?all=1", "/api/v1/audit/actions", "/api/v1/errors?status=all"] {
                _ = try await ask(uri)
            }
            for id in try await console.hub.quarantine.search(.init(status: nil), limit: 20).map(\.id) {
                _ = try await ask("/api/v1/errors/\(id)")
            }
            for incident in try await console.hub.incidents.search(.init(), limit: 25) {
                _ = try await ask("/api/v1/incidents/\(incident.no)")
            }
            _ = try await ask("/api/v1/incidents")
            for delivery in try await console.hub.outbox.deliveries(statuses: nil, target: nil, limit: 25) {
                _ = try await ask("/api/v1/deliveries/\(delivery.id)")
            }
            _ = try await ask("/api/v1/deliveries")
            for entity in try await console.hub.incidents.search(.init(), limit: 5) {
                _ = try await ask("/api/v1/audit/trail?entity=\(entity.id.uuidString.lowercased())")
            }
            let browser = Browser(console.client)
            try await browser.logIn("viewer")
            for page in ["/", "/errors?status=all", "/incidents", "/deliveries", "/loops?all=1", "/streams", "/audit"] {
                answers.append((page, try await browser.get(page).text))
            }
            for (uri, text) in answers {
                let leaked = personal.filter { text.contains($0) }
                #expect(leaked.isEmpty, "\(uri) shows \(leaked.sorted().prefix(5))")
            }
        }
    }

    /// Every phone number (a mobile or a fixed line) in the raw payloads the hub received, and every
    /// name and condition of two or more characters its records hold under personal fields.
    static func personalValues(in console: ConsoleHarness) async throws -> Set<String> {
        var values = Set<String>()
        for row in try await console.database.execute("SELECT convert_from(body, 'UTF8') FROM raw_payload WHERE detected_encoding ILIKE 'utf%8'") {
            let text = try row.decode(String.self)
            // Eleven digits from 13–19 standing alone (not inside a longer number such as a time in ms).
            for match in text.matches(of: /1[3-9][0-9]{9}/) {
                let before = match.range.lowerBound > text.startIndex ? text[text.index(before: match.range.lowerBound)] : " "
                let after = match.range.upperBound < text.endIndex ? text[match.range.upperBound] : " "
                if !before.isNumber, !after.isNumber { values.insert(String(match.output)) }
            }
        }
        for kind in ["work_order", "fire_alarm", "police_ticket", "ambulance_call"] {
            for row in try await console.database.execute("SELECT data::text FROM \(kind)") {
                let data = try FieldValue(jsonText: try row.decode(String.self))
                for (value, kind) in PersonalData.values(in: data) where value.count >= 2 && !value.contains("*") {
                    if kind == .phone || kind == .idNumber || kind == .name || value.count >= 3 { values.insert(value) }
                }
            }
        }
        return values
    }
}
