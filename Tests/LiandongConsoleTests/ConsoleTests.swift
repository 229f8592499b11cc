import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LiandongHub
import LiandongModel
import LiandongServer
import LiandongTestKit
import LiandongTestSupport
import Testing

/// The console and its API as each role uses them: what each may do and is refused, personal data
/// masked, CSRF, sessions, replays and bulk jobs, all against a real hub.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct ConsoleTests {
    /// Deny by default, per role and per agency: each refusal is a 403 (401 without credentials),
    /// each allowed action succeeds and is audited with the user and the reason.
    @Test func everyRoleGetsWhatItMayAndIsRefusedTheRest() async throws {
        try await ConsoleHarness.with(seed: { try await Seeds.quarantine(["GD701"], in: $0) }) { console in
            let viewer = try await console.user("viewer", grants: ["viewer"])
            let fireOperator = try await console.user("fire-liaison", grants: ["operator@fire-119"])
            let hotlineOperator = try await console.user("hotline-liaison", grants: ["operator@hotline-12345"])
            let auditor = try await console.user("auditor", grants: ["auditor"])
            let admin = try await console.user("admin", grants: ["admin"])
            let nobody = try await console.user("nobody", grants: [])
            let id = try #require(try await console.hub.quarantine.openIDs().first)

            let expectations: [(String?, HTTPRequest.Method, String, String?, HTTPResponse.Status)] = [
                (nil, .get, "/api/v1/errors", nil, .unauthorized),
                ("ld_made_up", .get, "/api/v1/errors", nil, .unauthorized),
                (nobody, .get, "/api/v1/errors", nil, .forbidden),
                (nobody, .get, "/api/v1/overview", nil, .forbidden),
                (viewer, .get, "/api/v1/overview", nil, .ok),
                (viewer, .get, "/api/v1/errors", nil, .ok),
                (viewer, .get, "/api/v1/errors/\(id)", nil, .ok),
                (viewer, .get, "/api/v1/incidents", nil, .ok),
                (viewer, .get, "/api/v1/deliveries", nil, .ok),
                (viewer, .get, "/api/v1/loops", nil, .ok),
                (viewer, .post, "/api/v1/errors/\(id)/ignore", #"{"reason":"noise"}"#, .forbidden),
                (viewer, .post, "/api/v1/streams/hotline-12345/work-orders/pause", #"{"reason":"x"}"#, .forbidden),
                (viewer, .post, "/api/v1/audit/verify", "{}", .forbidden),
                (viewer, .get, "/api/v1/users", nil, .forbidden),
                (fireOperator, .get, "/api/v1/errors/\(id)", nil, .forbidden),
                (fireOperator, .post, "/api/v1/errors/\(id)/ignore", #"{"reason":"not mine"}"#, .forbidden),
                (fireOperator, .get, "/api/v1/incidents", nil, .forbidden),
                (auditor, .post, "/api/v1/audit/verify", "{}", .ok),
                (auditor, .get, "/api/v1/audit/actions", nil, .ok),
                (auditor, .get, "/api/v1/audit/actions?=&before==1&&q", nil, .ok),
                (viewer, .get, "/api/v1/errors?q=%00", nil, .badRequest),
                (auditor, .post, "/api/v1/errors/\(id)/ignore", #"{"reason":"x"}"#, .forbidden),
                (auditor, .get, "/api/v1/users", nil, .forbidden),
                (admin, .get, "/api/v1/users", nil, .ok),
                (admin, .post, "/api/v1/errors/\(id)/ignore", #"{"reason":"x"}"#, .forbidden),
                (hotlineOperator, .post, "/api/v1/errors/\(id)/ignore", #"{"reason":""}"#, .badRequest),
                (hotlineOperator, .get, "/api/v1/users", nil, .forbidden),
                (hotlineOperator, .post, "/api/v1/streams/hotline-12345/work-orders/pause", #"{"reason":"agency maintenance"}"#, .ok),
                (hotlineOperator, .post, "/api/v1/streams/fire-119/alarms/pause", #"{"reason":"not mine"}"#, .forbidden),
                (hotlineOperator, .post, "/api/v1/errors/\(id)/ignore", #"{"reason":"a test order"}"#, .ok),
            ]
            for (token, method, uri, body, status) in expectations {
                let response = try await console.api(method, uri, token: token, json: body)
                #expect(response.status == status, "\(token ?? "anonymous") \(method) \(uri): \(response.text.prefix(200))")
            }
            // The fire liaison's list holds no 12345 failure: scoped, not refused.
            let fireList = try await console.api(.get, "/api/v1/errors?status=all", token: fireOperator)
            #expect(fireList.status == .ok)
            #expect(!fireList.text.contains("GD701"))
            // The ignore and the pause name the user and the reason in the audit chain.
            let trail = try await console.hub.audit.trail(of: "\(id)")
            let ignore = try #require(trail.last)
            #expect(ignore.action == "ignore")
            #expect(ignore.content.objectValue?["by"]?.stringValue == "hotline-liaison")
            #expect(ignore.content.objectValue?["reason"]?.stringValue == "a test order")
            let actions = try await console.hub.audit.decisions()
            #expect(actions.contains { $0.action == "stream.pause" && $0.content.objectValue?["by"]?.stringValue == "hotline-liaison" })
            #expect(try await console.hub.audit.verify().firstBad == nil)
            // An admin changes a user's grants and password through the API; the user's old password no
            // longer works, the new grants do.
            let change = try await console.api(
                .post, "/api/v1/users/viewer", token: admin, json: #"{"grants":"viewer operator@hotline-12345","password":"a new one","reason":"rotation"}"#)
            #expect(change.status == .ok)
            #expect(try await console.hub.console.user(named: "viewer")?.grants.map(\.text) == ["viewer", "operator@hotline-12345"])
            #expect(try await Browser(console.client).logIn("viewer").status == .unauthorized)
            #expect(try await Browser(console.client).logIn("viewer", password: "a new one").status == .seeOther)
            #expect(actions.count >= 2)
            // A revoked token is refused.
            let tokens = try await console.hub.console.tokens()
            try await console.hub.console.revokeToken(try #require(tokens.first { $0.user == "viewer" }).id, by: .test)
            #expect(try await console.api(.get, "/api/v1/overview", token: viewer).status == .unauthorized)
        }
    }

    /// The broadcast platform's deliveries wait for an operator of it: approved or refused with a
    /// reason, through the API and the delivery page; others are refused, and an answered one is not
    /// answered again.
    @Test func anOperatorOfTheBroadcastPlatformApprovesOrRefusesItsDeliveries() async throws {
        let seed: (Hub) async throws -> Void = { hub in
            let mapping = try MappingFixture.repositoryCatalog().mapping(named: "weather/cap-alert")
            for name in ["warnings.xml", "warnings-3.xml"] {
                let text = try String(contentsOf: Repository.root.appendingPathComponent("Adapters/weather/samples/\(name)"), encoding: .utf8)
                _ = try await hub.ingest(mapping.batch([text]))
            }
        }
        try await ConsoleHarness.with(seed: seed) { console in
            let waiting = try await console.hub.outbox.deliveries(statuses: [.awaitingApproval], target: "broadcast").map(\.id).sorted()
            #expect(waiting.count == 2)
            let duty = try await console.user("broadcast-duty", grants: ["operator@broadcast"])
            let fire = try await console.user("fire-liaison", grants: ["operator@fire-119"])
            let expectations: [(String, String, String, HTTPResponse.Status)] = [
                (fire, "/api/v1/deliveries/\(waiting[0])/approve", #"{"reason":"not mine"}"#, .forbidden),
                (duty, "/api/v1/deliveries/\(waiting[0])/approve", #"{"reason":""}"#, .badRequest),
                (duty, "/api/v1/deliveries/\(waiting[0])/approve", #"{"reason":"核实无误"}"#, .ok),
                (duty, "/api/v1/deliveries/\(waiting[0])/refuse", #"{"reason":"too late"}"#, .conflict),
            ]
            for (token, uri, body, status) in expectations {
                let response = try await console.api(.post, uri, token: token, json: body)
                #expect(response.status == status, "\(uri) \(body): \(response.text.prefix(200))")
            }
            #expect(try await console.hub.outbox.delivery(waiting[0]).delivery.status == .pending)
            // The page offers both answers while it waits; the refusal is made there.
            let browser = Browser(console.client)
            _ = try await browser.logIn("broadcast-duty")
            let page = try await browser.get("/deliveries/\(waiting[1])")
            #expect(page.text.contains("/deliveries/\(waiting[1])/approve") && page.text.contains("/deliveries/\(waiting[1])/refuse"))
            let refused = try await browser.post(
                "/deliveries/\(waiting[1])/refuse", ["reason": "预警已解除", "csrf": Browser.field("csrf", in: page.text) ?? ""])
            #expect(refused.status == .seeOther)
            #expect(try await console.hub.outbox.delivery(waiting[1]).delivery.status == .refused)
            #expect(!(try await browser.get("/deliveries/\(waiting[1])")).text.contains("/approve"))
            let actions = try await console.hub.audit.decisions()
            #expect(actions.contains { $0.action == "delivery.approve" && $0.content.objectValue?["by"]?.stringValue == "broadcast-duty" })
            #expect(actions.contains { $0.action == "delivery.refuse" && $0.content.objectValue?["reason"]?.stringValue == "预警已解除" })
        }
    }

    /// A viewer never sees the citizen's phone number, in any answer; a user with `personal_data` does.
    @Test func personalDataIsMaskedForUsersWithoutThePermission() async throws {
        try await ConsoleHarness.with(seed: { try await Seeds.quarantine(["GD702"], in: $0) }) { console in
            let viewer = try await console.user("viewer", grants: ["viewer"])
            let trusted = try await console.user("trusted", grants: ["viewer", "personal_data"])
            let id = try #require(try await console.hub.quarantine.openIDs().first)
            let browser = Browser(console.client)
            try await browser.logIn("viewer")
            for uri in ["/api/v1/errors/\(id)", "/api/v1/errors?q=GD702", "/api/v1/errors/bulk"] {
                let response =
                    uri.hasSuffix("bulk")
                    ? try await console.api(.post, uri, token: viewer, json: #"{"action":"replay","dry_run":true}"#)
                    : try await console.api(.get, uri, token: viewer)
                #expect(!response.text.contains(Seeds.phone), "\(uri)")
            }
            let export = try await console.api(.get, "/api/v1/errors/export?q=GD702", token: viewer)
            #expect(export.status == .ok)
            #expect(export.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(export.text.contains("GD702"))
            #expect(!export.text.contains(Seeds.phone))
            #expect(export.text.split(separator: "\r\n").count == 2, "the header and one failure")
            // A value a spreadsheet would run as a formula is written as text.
            try await Seeds.quarantine(["GD703"], matter: "=HYPERLINK(1)", in: console.hub)
            let formula = try await console.api(.get, "/api/v1/errors/export?q=GD703", token: viewer)
            #expect(formula.text.contains("'=HYPERLINK(1)"))
            #expect(!formula.text.contains(",=HYPERLINK"))
            let page = try await browser.get("/errors/\(id)")
            #expect(page.status == .ok)
            #expect(page.text.contains("GD702"))
            #expect(page.text.contains("138****5678"))
            #expect(!page.text.contains(Seeds.phone))
            let unmasked = try await console.api(.get, "/api/v1/errors/\(id)", token: trusted)
            #expect(unmasked.text.contains(Seeds.phone))
        }
    }

    /// What a review of the console found, each refused or masked now: a far-future date that trapped
    /// the process, `operator@` read as every agency, a login redirect to another site, a monitor's
    /// Authorization header refused on a public path, a viewer searching for a phone number, a malformed
    /// phone number shown as a failure's value, a stream's error unmasked on the overview, a last page
    /// linking to "nil".
    @Test func holesFoundInReviewStayClosed() async throws {
        try await ConsoleHarness.with(seed: { hub in
            try await Seeds.quarantine(["GD750"], phone: "1381234567", in: hub)
            try await hub.streams.setPaused(source: "hotline-12345", stream: "work-orders", false, by: .test)
            try await hub.streams.finishStreamRun(
                source: "hotline-12345", stream: "work-orders", holder: "a", error: "the hotline answered 13812345678 is busy", nextRun: Date())
        }) { console in
            let viewer = try await console.user("viewer", grants: ["viewer"])
            let trusted = try await console.user("trusted", grants: ["viewer", "personal_data"])
            #expect(try await console.api(.get, "/api/v1/errors?since=300000-01-01&until=9999999-01-01", token: viewer).status == .ok)
            #expect(Grant(text: "operator@") == nil)
            #expect(Grant(text: "operator@fire-119")?.agencies == ["fire-119"])
            let browser = Browser(console.client)
            _ = try await browser.get("/login")
            let page = String(buffer: try await browser.get("/login?next=/%5Cevil.example").body)
            #expect(Browser.field("next", in: page) == "/")
            let document = try await console.client.execute(uri: "/api/openapi.yaml", method: .get, headers: [.authorization: "Basic bW9uaXRvcjp4"])
            #expect(document.status == .ok, "a public path ignores a monitor's own Authorization header")
            #expect(try await console.api(.get, "/api/v1/errors?q=138%201234%205678", token: viewer).status == .forbidden)
            #expect(try await console.api(.get, "/api/v1/errors?q=GD750", token: viewer).status == .ok)
            #expect(try await console.api(.get, "/api/v1/errors?q=13812345678", token: trusted).status == .ok)
            let id = try #require(try await console.hub.quarantine.openIDs().first)
            let failure = try await console.api(.get, "/api/v1/errors/\(id)", token: viewer)
            #expect(failure.text.contains("citizenPhone"))
            #expect(!failure.text.contains("1381234567"))
            #expect(try await console.api(.get, "/api/v1/errors/\(id)", token: trusted).text.contains("1381234567"))
            let overview = try await console.api(.get, "/api/v1/overview", token: viewer)
            #expect(overview.text.contains("is busy"))
            #expect(!overview.text.contains("13812345678"))
            try await browser.logIn("viewer")
            let list = try await browser.get("/errors")
            #expect(list.status == .ok)
            #expect(!list.text.contains("href=\"nil\""))
            #expect(!list.text.contains("href=\"false\""))
        }
    }

    /// Forms need the session's CSRF token; cookies are HttpOnly and SameSite=Strict; a login always
    /// makes a new session; an idle session ends; failed logins lock the user out for a while.
    @Test func sessionsCSRFAndLogins() async throws {
        var configuration = Console.Configuration()
        configuration.allowedFailedLogins = 3
        try await ConsoleHarness.with(configuration: configuration, seed: { try await Seeds.quarantine(["GD703"], in: $0) }) { console in
            _ = try await console.user("op", grants: ["operator"])
            _ = try await console.user("locked", grants: ["viewer"])
            let id = try #require(try await console.hub.quarantine.openIDs().first)
            let browser = Browser(console.client)
            #expect(try await browser.get("/errors").status == .found, "not signed in: to the login page")
            // A session id planted before the login is not the one the login gives.
            browser.cookies["liandong_session"] = "planted"
            let login = try await browser.logIn("op")
            #expect(login.status == .seeOther)
            let cookie = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("liandong_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(browser.cookies["liandong_session"] != "planted")
            #expect(!cookie.contains("Secure"), "served over plain HTTP")
            // Behind a TLS-terminating proxy the cookie is Secure.
            let behindProxy = Browser(console.client)
            behindProxy.headers[HTTPField.Name("X-Forwarded-Proto")!] = "https"
            let secure = try #require(try await behindProxy.logIn("op").headers[values: .setCookie].first { $0.hasPrefix("liandong_session=") })
            #expect(secure.contains("Secure"))
            let page = try await browser.get("/errors/\(id)")
            let csrf = try #require(Browser.field("csrf", in: page.text))
            #expect(try await browser.post("/errors/\(id)/ignore", ["reason": "no token"]).status == .forbidden)
            #expect(try await browser.post("/errors/\(id)/ignore", ["reason": "wrong token", "csrf": "x"]).status == .forbidden)
            #expect(try await console.hub.quarantine.failure(id).status == "open")
            #expect(try await browser.post("/errors/\(id)/ignore", ["reason": "a test order", "csrf": csrf]).status == .seeOther)
            #expect(try await console.hub.quarantine.failure(id).decidedBy == "op")
            // A login form posted from elsewhere (no login cookie) is refused.
            let stranger = Browser(console.client)
            #expect(try await stranger.post("/login", ["login_token": "x", "name": "op", "password": "correct horse battery"]).status == .forbidden)
            // Idle past the timeout (30 minutes, aged in the database): back to the login page.
            #expect(try await browser.get("/").status == .ok)
            _ = try await console.database.execute("UPDATE console_session SET last_seen_at = now() - interval '31 minutes'")
            #expect(try await browser.get("/").status == .found)
            // Three wrong passwords lock the user; then even the right one is refused for a while.
            let guesser = Browser(console.client)
            for _ in 0..<3 { #expect(try await guesser.logIn("locked", password: "guess").status == .unauthorized) }
            #expect(try await guesser.logIn("locked").status == .tooManyRequests)
        }
    }

    /// A replay is previewed (nothing changes), then applied with a reason; a bulk replay over a
    /// filter is capped, runs as a job with progress, and every failure keeps its link to the job.
    @Test func replayPreviewThenApplyAndABulkJob() async throws {
        let fixed = try Seeds.catalog(version: 2, strict: false)
        try await ConsoleHarness.with(catalog: fixed, seed: { try await Seeds.quarantine(["GD710", "GD711", "GD712"], in: $0) }) { console in
            let op = try await console.user("op", grants: ["operator@hotline-12345"])
            let found = try await console.api(.get, "/api/v1/errors?q=GD711", token: op)
            #expect(found.text.contains("GD711"))
            #expect(!found.text.contains("GD710"))
            let ids = try await console.hub.quarantine.openIDs()
            let first = ids[0]
            let preview = try await console.api(.post, "/api/v1/errors/\(first)/replay", token: op, json: #"{"dry_run":true}"#)
            #expect(preview.status == .ok)
            #expect(preview.text.contains("replayed"))
            #expect(try await console.hub.quarantine.failure(first).status == "open", "a preview changes nothing")
            #expect(try await console.api(.post, "/api/v1/errors/\(first)/replay", token: op, json: "{}").status == .badRequest, "no reason")
            #expect(try await console.api(.post, "/api/v1/errors/\(first)/replay", token: op, json: #"{"reason":"mapping v2"}"#).status == .ok)
            #expect(try await console.hub.quarantine.failure(first).status == "replayed")

            let bulkPreview = try await console.api(.post, "/api/v1/errors/bulk", token: op, json: #"{"action":"replay","dry_run":true,"source":"hotline-12345"}"#)
            #expect(bulkPreview.text.contains(#""count":2"#))
            let started = try await console.api(.post, "/api/v1/errors/bulk", token: op, json: #"{"action":"replay","reason":"mapping v2","source":"hotline-12345"}"#)
            #expect(started.status == .ok)
            let job = try #require(try await console.hub.console.jobs().first)
            try await eventually("the bulk job finishes", within: .seconds(30)) { try await console.hub.console.jobs(id: job.id).first?.status == "finished" }
            let finished = try #require(try await console.hub.console.jobs(id: job.id).first)
            #expect(finished.done == 2)
            #expect(finished.failed == 0)
            for id in ids.dropFirst() {
                let failure = try await console.hub.quarantine.failure(id)
                #expect(failure.status == "replayed")
                #expect(failure.jobID == job.id)
            }
            #expect(try await console.hub.inspection.stats().entities["work_order"] == 3)
            #expect(try await console.hub.audit.verify().firstBad == nil)
        }
    }

    /// The OpenAPI document and the code agree: every API route is documented, every documented
    /// operation is a route.
    @Test func theOpenAPIDocumentListsEveryAPIRoute() async throws {
        try await ConsoleHarness.with { console in
            let router = Router(context: ConsoleContext.self)
            console.console.addRoutes(to: router)
            let routes = Set(
                router.routes.map { "\($0.method.rawValue) " + $0.path.description.replacing(/:(\w+)/) { "{\($0.1)}" } }
                    .filter { $0.contains(" /api/v1/") })
            let document = String(buffer: try await console.api(.get, "/api/openapi.yaml", token: nil).body)
            var documented = Set<String>()
            var path = ""
            for line in document.split(separator: "\n") {
                if let match = line.wholeMatch(of: /\ \ (\/api\/v1\/[^:]+):/) { path = String(match.1) }
                if let match = line.wholeMatch(of: /\ \ \ \ (get|post|put|delete|patch):/), !path.isEmpty {
                    documented.insert("\(match.1.uppercased()) \(path)")
                }
            }
            #expect(routes.subtracting(documented).isEmpty, "routes missing from the document: \(routes.subtracting(documented).sorted())")
            #expect(documented.subtracting(routes).isEmpty, "documented but not routes: \(documented.subtracting(routes).sorted())")
            #expect(routes.count > 20)
        }
    }

    /// Every page renders for an admin holding every role, with the user's name and no template error.
    @Test func everyPageRenders() async throws {
        try await ConsoleHarness.with(seed: { try await Seeds.quarantine(["GD720"], in: $0) }) { console in
            _ = try await console.user("all", grants: ["viewer", "operator", "auditor", "admin", "personal_data"])
            let browser = Browser(console.client)
            try await browser.logIn("all")
            let id = try #require(try await console.hub.quarantine.openIDs().first)
            for uri in ["/", "/errors", "/errors/\(id)", "/incidents", "/deliveries", "/loops", "/streams", "/audit", "/users", "/audit?entity=\(id)"] {
                let page = try await browser.get(uri)
                #expect(page.status == .ok, "\(uri)")
                #expect(page.text.contains("退出"), "\(uri) has the layout")
                #expect(!page.text.contains("is missing"), "\(uri)")
            }
            #expect(try await browser.get("/assets/console.css").status == .ok)
            #expect(try await browser.get("/api/openapi.yaml").text.hasPrefix("openapi: 3.1"))
        }
    }
}
