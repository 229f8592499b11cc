import LiandongAdapterKit
import LiandongSimulator
import LiandongTestKit
import LiandongTestSupport
import Testing

/// An adapter failure says what kind it is, so the engine and the pusher know whether to retry,
/// and its description holds no answer of the agency's.
@Suite struct AdapterErrorTests {
    func transport(_ baseURL: String) throws -> HTTPTransport {
        var configuration = HTTPTransport.Configuration(baseURL: baseURL)
        configuration.attempts = 1
        configuration.timeout = .seconds(2)
        return try HTTPTransport(system: "fire-119", configuration: configuration, logger: TestDatabase.logger)
    }

    func failure(_ request: () async throws -> Void) async -> AdapterError? {
        do {
            try await request()
            return nil
        } catch {
            return error as? AdapterError
        }
    }

    @Test func eachFailureHasItsCode() async throws {
        let simulator = AgencySimulator(.init(agency: .fire, seed: 1, records: 5))
        try await simulator.withRunning { simulator in
            let http = try transport(simulator.baseURL!)
            let missing = await failure { _ = try await http.get("/no/such/list") }
            #expect(missing?.code == .refused && missing?.isTransient == false, "\(String(describing: missing))")
            simulator.faults.inject(.serverError)
            let busy = await failure { _ = try await http.get("/jqxx/list") }
            #expect(busy?.code == .unavailable && busy?.isTransient == true, "\(String(describing: busy))")
        }
        // Port 9 (discard) on loopback: nothing listens, nothing answers.
        let nobody = await failure { _ = try await transport("http://127.0.0.1:9").get("/jqxx/list") }
        #expect(nobody?.code == .unreachable && nobody?.isTransient == true, "\(String(describing: nobody))")
        #expect(nobody.map { "\($0)" }?.hasPrefix("fire-119: GET /jqxx/list got no answer") == true)
    }

    /// An agency's `requests_per_second` spaces its requests, across concurrent callers: ten at five a
    /// second cannot all be answered within 1.8 s (nine gaps of 0.2 s). A lower bound, so a loaded
    /// machine cannot make it fail.
    @Test func requestsArePacedPerAgency() async throws {
        let simulator = AgencySimulator(.init(agency: .fire, seed: 1, records: 5))
        try await simulator.withRunning { simulator in
            var configuration = HTTPTransport.Configuration(baseURL: simulator.baseURL!)
            configuration.requestsPerSecond = 5
            let http = try HTTPTransport(system: "fire-119", configuration: configuration, logger: TestDatabase.logger)
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<10 { group.addTask { _ = try await http.get("/jqxx/list") } }
                try await group.waitForAll()
            }
            #expect(ContinuousClock.now - started >= .milliseconds(1800))
            #expect(simulator.requestCount == 10)
        }
    }
}
