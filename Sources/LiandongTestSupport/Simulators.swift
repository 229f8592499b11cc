import LiandongAdapterKit
import LiandongSimulator
import LiandongSync

extension AgencySimulator {
    /// Runs the simulator on loopback for the duration of `body`, then stops it.
    public func withRunning<Result: Sendable>(_ body: (AgencySimulator) async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run() }
            defer { group.cancelAll() }
            while port == nil { try await Task.sleep(for: .milliseconds(10)) }
            return try await body(self)
        }
    }

    /// The hub's adapter for this simulated system, with a short timeout and quick retries for tests.
    public func makeAdapter(pageSize: Int = 20, timeoutSeconds: Double = 2, attempts: Int = 3) throws -> any SourceAdapter {
        try AdapterRegistry.make(
            configuration.agency.rawValue, baseURL: baseURL!, token: configuration.token, pageSize: pageSize,
            timeoutSeconds: timeoutSeconds, attempts: attempts, logger: TestDatabase.logger)
    }
}
