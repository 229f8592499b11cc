import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongSimulator
import LiandongSync
import LiandongTestKit

extension AgencySimulator {
    /// Runs the simulator on loopback for the duration of `body`, then stops it. The test does not
    /// wait for the server to finish shutting down: it is scenery, and a client's lingering
    /// connection must not hold a test up.
    public func withRunning<Result: Sendable>(_ body: (AgencySimulator) async throws -> Result) async throws -> Result {
        let server = Task { try await self.run() }
        defer { server.cancel() }
        // Generous: at the start of the full suite on two cores, a simulator making its city competes
        // with every other suite starting.
        let deadline = ContinuousClock.now + .seconds(30)
        while port == nil {
            guard ContinuousClock.now < deadline else {
                throw AdapterError(.unreachable, system: .init(configuration.agency.rawValue), "the simulator did not start")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await body(self)
    }

    /// Runs every simulator of `simulators` for the duration of `body`, then stops them.
    public static func withRunning(all simulators: [AgencySimulator], _ body: () async throws -> Void) async throws {
        guard let first = simulators.first else { return try await body() }
        try await first.withRunning { _ in try await withRunning(all: Array(simulators.dropFirst()), body) }
    }

    /// The hub's adapter for this simulated system, from its folder in the repository, with a short
    /// timeout and quick retries for tests.
    public func makeAdapter(
        pageSize: Int = 20, timeoutSeconds: Double = 2, attempts: Int = 3, overlap: TimeInterval? = nil
    ) throws -> any SourceAdapter {
        try AdapterCatalog.repository().make(
            configuration.agency.rawValue, baseURL: baseURL!, token: configuration.token, pageSize: pageSize,
            timeoutSeconds: timeoutSeconds, attempts: attempts, overlap: overlap, logger: TestDatabase.logger)
    }
}

extension AgencySimulator {
    /// The hub's adapter for delivering to this simulated system.
    public func makeTarget() throws -> any TargetAdapter {
        guard let target = try makeAdapter().receiver else {
            throw AdapterError(.unsupported, system: .init(configuration.agency.rawValue), "takes no deliveries")
        }
        return target
    }
}

extension FolderSimulator {
    /// Runs the repository's folders `systems` from their samples on loopback for the duration of
    /// `body`, which gets them in the order named.
    public static func withRunning<Result: Sendable>(
        _ systems: [String], catalog: MappingCatalog, _ body: ([FolderSimulator]) async throws -> Result
    ) async throws -> Result {
        let agencies = try AdapterCatalog.repository()
        let simulators = try systems.map { try FolderSimulator(definition: try agencies.definition($0), catalog: catalog) }
        let servers = simulators.map { simulator in Task { try await simulator.run() } }
        defer { for server in servers { server.cancel() } }
        try await eventually("the folders' simulators listen", within: .seconds(30)) { simulators.allSatisfy { $0.baseURL != nil } }
        return try await body(simulators)
    }

    /// The hub's adapter for this simulated system, from its folder in the repository.
    public func makeAdapter() throws -> any SourceAdapter {
        try AdapterCatalog.repository().make(definition.system.rawValue, baseURL: baseURL!, token: "test", logger: TestDatabase.logger)
    }
}

extension AdapterCatalog {
    /// The repository's agency folders.
    public static func repository() throws -> AdapterCatalog { try AdapterCatalog(directory: Repository.adapters) }
}

extension DeliveryPusher {
    /// Runs a pusher for `targets` during `body`, with quick retries for tests.
    public static func running<Result: Sendable>(
        hub: Hub, catalog: MappingCatalog, targets: [any TargetAdapter], configure: (inout Configuration) -> Void = { _ in },
        _ body: () async throws -> Result
    ) async throws -> Result {
        var configuration = Configuration()
        configuration.initialBackoff = .milliseconds(50)
        configuration.maxBackoff = .milliseconds(400)
        configuration.idlePoll = .milliseconds(200)
        configuration.circuitOpen = .milliseconds(300)
        configure(&configuration)
        let pusher = DeliveryPusher(
            hub: hub, catalog: catalog, targets: targets, instance: "test", configuration: configuration, logger: TestDatabase.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pusher.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
