import Foundation
import Hummingbird
import HummingbirdTesting
import LiandongHub
import LiandongModel
import LiandongServer
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

/// The console served for real, driven by a real browser (Chromium through Selenium) and fuzzed
/// through its OpenAPI document by schemathesis.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct ConsoleBrowserTests {
    /// Logs in, finds a quarantined record by its work-order number, previews a replay and ignores it.
    /// Screenshots of the main pages go to `$LIANDONG_SCREENSHOTS` when it is set.
    @Test(.timeLimit(.minutes(10))) func anOperatorFindsPreviewsAndIgnoresARecordInABrowser() async throws {
        let python = try await PythonTools.program("python")
        let driver = try PythonTools.chromeDriver()
        try await ConsoleHarness.with(live: true, seed: { try await Seeds.quarantine(["GD20261203017", "GD20261203018"], in: $0) }) { console in
            _ = try await console.user("operator", grants: ["operator"])
            let port = try #require(console.client.port)
            var arguments = [
                Repository.root.appendingPathComponent("Tests/Browser/console_tour.py").path, "--url", "http://127.0.0.1:\(port)", "--user", "operator",
                "--password", "correct horse battery", "--work-order", "GD20261203017", "--driver", driver.path, "--ignore",
            ]
            if let folder = ProcessInfo.processInfo.environment["LIANDONG_SCREENSHOTS"] { arguments += ["--screenshots", folder] }
            let tour = try await CommandLineRunner(executable: python).run(arguments)
            #expect(tour.status == 0, "\(tour.stdout)\n\(tour.stderr)")
            let ignored = try await console.hub.quarantine.search(.init(status: "ignored"))
            #expect(ignored.map(\.externalID) == ["GD20261203017"])
            #expect(ignored.first?.decidedBy == "operator")
            #expect(ignored.first?.decisionReason == "浏览器测试：测试工单")
        }
    }

    /// Every operation of the OpenAPI document, fuzzed: no answer is a 5xx, and every answer matches
    /// the document (status, content type, schema).
    @Test(.timeLimit(.minutes(15))) func theAPIMatchesItsOpenAPIDocumentUnderFuzzing() async throws {
        let schemathesis = try await PythonTools.program("schemathesis")
        try await ConsoleHarness.with(live: true, seed: { try await Seeds.quarantine(["GD740", "GD741"], in: $0) }) { console in
            let token = try await console.user("fuzzer", grants: ["viewer", "operator", "auditor", "admin", "personal_data"])
            let port = try #require(console.client.port)
            let run = try await CommandLineRunner(executable: schemathesis).run([
                "run", "http://127.0.0.1:\(port)/api/openapi.yaml", "--url", "http://127.0.0.1:\(port)",
                "--header", "Authorization: Bearer \(token)",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples", "25", "--generation-deterministic", "--workers", "1", "--no-color",
            ])
            #expect(run.status == 0, "\(run.stdout.suffix(6000))\n\(run.stderr.suffix(2000))")
        }
    }
}
