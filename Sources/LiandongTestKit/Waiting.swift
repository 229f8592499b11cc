/// Why `eventually` gave up: what was awaited and for how long.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var after: Duration
    public var description: String { "timed out after \(after) waiting until \(what)" }
}

/// Asks `value` every `poll` until it gives a value, and returns that value; throws `TimedOut` naming
/// `what` once `within` has passed. For what another process or a background task makes true.
public func eventually<Value>(
    _ what: String, within: Duration, poll: Duration = .milliseconds(100), _ value: () async throws -> Value?
) async throws -> Value {
    let clock = ContinuousClock()
    let deadline = clock.now + within
    while true {
        if let value = try await value() { return value }
        guard clock.now < deadline else { throw TimedOut(what: what, after: within) }
        try await Task.sleep(for: poll)
    }
}

/// `eventually` for a condition.
public func eventually(
    _ what: String, within: Duration, poll: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async throws {
    let _: Bool = try await eventually(what, within: within, poll: poll) { try await condition() ? true : nil }
}
