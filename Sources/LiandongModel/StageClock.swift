import Synchronization

/// Time spent in each stage of the ingest path, summed over a run: what `liandong bench ingest`
/// reports. Stages are timed only where a clock is passed in; without one nothing is measured.
public final class StageClock: Sendable {
    /// The stages of the ingest path, in order.
    public enum Stage: String, CaseIterable, Sendable, Codable {
        /// Reading pages from the source.
        case read
        /// Text decoding and parsing documents.
        case decode
        /// Running records through their mapping.
        case map
        /// Identity: current states, the ingest plan, incident resolution.
        case resolve
        /// Everything else the ingest transaction does in PostgreSQL (payloads, entities, audit, outbox, commit).
        case write
    }

    private let totals = Mutex<[Stage: Duration]>([:])

    public init() {}

    /// Adds the time from `start` to now to `stage`.
    public func add(_ stage: Stage, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        totals.withLock { $0[stage, default: .zero] += elapsed }
    }

    /// Moves `duration` from one stage to another (time measured as a whole and then split).
    public func move(_ duration: Duration, from: Stage, to: Stage) {
        totals.withLock {
            $0[from, default: .zero] -= duration
            $0[to, default: .zero] += duration
        }
    }

    /// Seconds per stage.
    public var seconds: [Stage: Double] {
        totals.withLock { totals in
            totals.mapValues { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        }
    }
}
