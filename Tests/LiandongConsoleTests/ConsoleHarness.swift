import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongServer
import LiandongSync
import LiandongTestKit
import LiandongTestSupport

/// A console over a fresh hub, driven through Hummingbird's router test client, with its bulk job
/// runner going; users are made with `user(_:grants:)` and act through tokens or a browser session.
struct ConsoleHarness {
    let hub: Hub
    let client: any TestClientProtocol
    let console: Console
    /// The hub's database, for SQL from outside (ageing a session).
    let database: OutsideSQL

    /// Runs `body` against a console over a fresh hub seeded by `seed`; replays use `catalog`. `live`
    /// serves it on a loopback port (`client.port`) for programs outside the process.
    static func with(
        catalog: MappingCatalog = try! MappingFixture.repositoryCatalog(), configuration: Console.Configuration = .init(), live: Bool = false,
        seed: (Hub) async throws -> Void = { _ in }, _ body: @escaping @Sendable (ConsoleHarness) async throws -> Void
    ) async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        try await Hub.withHub(at: location, policies: catalog.policies, logger: TestDatabase.logger) { hub in
            try await seed(hub)
            let jobs = JobRunner(hub: hub, engine: SyncEngine(hub: hub, catalog: catalog, logger: hub.logger), logger: hub.logger)
            let console = try await Console(hub: hub, catalog: catalog, jobs: jobs, configuration: configuration, logger: hub.logger)
            let router = Router(context: ConsoleContext.self)
            console.addRoutes(to: router)
            let application = Application(router: router)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await jobs.run() }
                defer { group.cancelAll() }
                try await application.test(live ? .live : .router) { client in try await body(ConsoleHarness(hub: hub, client: client, console: console, database: OutsideSQL(location))) }
            }
        }
    }

    /// Makes a user holding `grants` (`operator@fire-119`) and returns a bearer token of theirs.
    func user(_ name: String, grants: [String], password: String = "correct horse battery") async throws -> String {
        try await hub.console.createUser(
            name: name, passwordHash: Console.hash(password: password), grants: grants.compactMap(Grant.init(text:)), by: .test)
        let token = "ld_test_\(name)"
        try await hub.console.createToken(named: "test", secret: token, for: name, by: .test)
        return token
    }

    /// A request as the holder of `token` (nil: anonymous); `json` is sent as the body.
    func api(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

/// A browser: cookies kept between requests, forms posted as a browser posts them.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    /// Sent with every request (a proxy's `X-Forwarded-Proto`).
    var headers: HTTPFields = [:]

    init(_ client: any TestClientProtocol) { self.client = client }

    @discardableResult
    func get(_ uri: String) async throws -> TestResponse { try await send(.get, uri, body: nil) }

    @discardableResult
    func post(_ uri: String, _ form: [String: String]) async throws -> TestResponse {
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.value)" }.joined(separator: "&")
        return try await send(.post, uri, body: body)
    }

    private func send(_ method: HTTPRequest.Method, _ uri: String, body: String?) async throws -> TestResponse {
        var headers = self.headers
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        for line in response.headers[values: .setCookie] {
            let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { cookies[pair[0]] = pair[1].isEmpty ? nil : pair[1] }
        }
        return response
    }

    /// Signs in through the login form; returns the answer to the form.
    @discardableResult
    func logIn(_ name: String, password: String = "correct horse battery") async throws -> TestResponse {
        let page = String(buffer: try await get("/login").body)
        return try await post("/login", ["login_token": Self.field("login_token", in: page) ?? "", "name": name, "password": password, "next": "/"])
    }

    /// The value of the hidden field `name` in `html`.
    static func field(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// Failures to seed: 12345 work orders whose matter a strict mapping refuses, each with the
/// citizen's phone number in its raw payload.
enum Seeds {
    static let phone = "13812345678"

    static func catalog(version: Int, strict: Bool) throws -> MappingCatalog {
        let text = try String(contentsOf: Repository.mappings.appendingPathComponent("hotline-12345/work-order.yaml"), encoding: .utf8)
            .replacingOccurrences(of: #"(?m)^version: \d+"#, with: "version: \(version)", options: .regularExpression)
            .replacingOccurrences(
                of: "matter: {path: matter, transforms: [trim]}", with: "matter: {path: matter, transforms: [trim\(strict ? ", {allowed: [道路积水]}" : "")]}")
        return try MappingFixture.catalog(["hotline-12345/work-order.yaml": text])
    }

    static func workOrder(_ number: String, matter: String, phone: String = phone) -> String {
        """
        {"orderNo":"\(number)","appealType":"求助","matter":"\(matter)","status":"登记","citizenPhone":"\(phone)",
         "areaCode":"310101","latitude":"31.24","longitude":"121.50","createTime":"2026-11-18 08:00:00","updateTime":"2026-11-18 08:00:00"}
        """
    }

    /// Quarantines work orders `numbers` (each its own page) with the strict mapping; with `phone`,
    /// each has that citizen's number instead (one too malformed to mask fails on it).
    static func quarantine(_ numbers: [String], phone: String = phone, matter: String = "噪音扰民", in hub: Hub) async throws {
        let mapping = try catalog(version: 1, strict: true).mapping(named: "hotline-12345/work-order")
        for number in numbers {
            let page = #"{"code":0,"data":{"hasMore":false,"items":[\#(workOrder(number, matter: matter, phone: phone))]}}"#
            _ = try await hub.ingest(mapping.batch([page]))
        }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}
