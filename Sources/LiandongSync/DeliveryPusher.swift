import Foundation
import LiandongAdapterKit
import LiandongHub
import LiandongMapping
import LiandongModel
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Delivers the outbox: one task per target, each under the lease `push:<target>` so that exactly
/// one instance pushes to a receiver at a time, sending its due deliveries one by one in outbox
/// order (an entity's versions in order). Before sending, the receiver's *current* agreement is
/// applied again to the stored payload (a field withdrawn since is not sent; an expired agreement
/// holds the delivery back) and its outbound mapping renders the document.
///
/// Failures a retry may cure are retried with exponential backoff and jitter up to `maxAttempts`,
/// then the delivery is dead; a receiver's refusal is dead at once. After `circuitFailures`
/// failures in a row the target's circuit opens for `circuitOpen`: nothing is sent to it meanwhile.
/// A `NOTIFY` from the committing transaction wakes the target's task at once.
///
/// Exactly once at the receiver: a delivery is marked delivered only after the receiver's answer;
/// a crash in between sends it again with the same idempotency key, which the receiver recognises.
public struct DeliveryPusher: Service {
    /// Retry, circuit and lease settings (`delivery:` in the configuration).
    public struct Configuration: Sendable {
        /// Attempts before a delivery is dead, the first included.
        public var maxAttempts = 8
        /// Delay before the first retry; doubles each time, with ±50 % jitter, up to `maxBackoff`.
        public var initialBackoff: Duration = .seconds(2)
        public var maxBackoff: Duration = .seconds(600)
        /// Failures in a row that open a target's circuit, and how long it stays open.
        public var circuitFailures = 5
        public var circuitOpen: Duration = .seconds(60)
        /// Deliveries fetched per round.
        public var batchSize = 50
        /// How long an idle target waits for a wake-up before looking again.
        public var idlePoll: Duration = .seconds(5)
        public var leaseSeconds: Double = 30

        public init() {}
    }

    public let hub: Hub
    public let catalog: MappingCatalog
    public let targets: [any TargetAdapter]
    /// This instance's name in leases.
    public let instance: String
    public let configuration: Configuration
    let logger: Logger

    public init(
        hub: Hub, catalog: MappingCatalog, targets: [any TargetAdapter], instance: String, configuration: Configuration = .init(),
        logger: Logger
    ) {
        self.hub = hub
        self.catalog = catalog
        self.targets = targets
        self.instance = instance
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let wakeups = Dictionary(uniqueKeysWithValues: targets.map { ($0.system.rawValue, Wakeup()) })
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await listen(wakeups) }
            for target in targets {
                group.addTask { await loop(target, wakeup: wakeups[target.system.rawValue]!) }
            }
            // The listener runs until cancelled; the loops end on shutdown.
            for _ in targets { await group.next() }
            group.cancelAll()
        }
    }

    /// Forwards `NOTIFY`s to the targets' tasks, reconnecting when the database goes away.
    private func listen(_ wakeups: [String: Wakeup]) async {
        while !Task.isCancelled {
            do {
                try await hub.outbox.listen { target in wakeups[target]?.signal() }
            } catch {
                logger.debug("Outbox listener stopped; reconnecting", metadata: ["liandong.error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func loop(_ target: any TargetAdapter, wakeup: Wakeup) async {
        let name = target.system.rawValue
        let lease = "push:\(name)"
        let held = Gauge(label: "liandong_leases_held", dimensions: [("pusher", name)])
        var circuit = Circuit()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var wait = configuration.idlePoll
            do {
                if let reopens = circuit.openUntil, reopens > .now {
                    wait = reopens - .now
                } else if try await hub.streams.claimLease(lease, holder: instance, lease: configuration.leaseSeconds) {
                    held.record(1)
                    var claimed = ContinuousClock.now
                    let due = try await hub.outbox.due(target: name, limit: configuration.batchSize)
                    for delivery in due {
                        guard !Task.isShuttingDownGracefully else { break }
                        // Renewed once a third of the lease has passed, not before every delivery.
                        if ContinuousClock.now - claimed > .seconds(configuration.leaseSeconds / 3) {
                            guard try await hub.streams.claimLease(lease, holder: instance, lease: configuration.leaseSeconds) else { break }
                            claimed = .now
                        }
                        let outcome = await attempt(delivery, through: target)
                        try await hub.outbox.record(outcome, of: delivery)
                        Counter(label: "liandong_deliveries_total", dimensions: [("target", name), ("outcome", outcome.label)]).increment()
                        if circuit.note(outcome, threshold: configuration.circuitFailures, open: configuration.circuitOpen) {
                            logger.warning(
                                "Circuit opened: deliveries paused", metadata: ["liandong.target": "\(name)", "liandong.error": "\(outcome.error ?? "")"])
                            break
                        }
                    }
                    if due.count == configuration.batchSize { continue }
                    if let next = try await hub.outbox.nextDue(target: name) {
                        wait = min(wait, .seconds(max(next.timeIntervalSinceNow, 0.05)))
                    }
                } else {
                    held.record(0)
                }
            } catch {
                held.record(0)
                if Task.isCancelled { break }
                logger.warning("Delivering failed; retrying", metadata: ["liandong.target": "\(name)", "liandong.error": "\(error)"])
            }
            let pause = wait
            await cancelWhenGracefulShutdown { await wakeup.wait(upTo: pause) }
        }
        held.record(0)
        try? await hub.streams.releaseLease(lease, holder: instance)
    }

    /// One attempt: the current agreement over the stored payload, the outbound mapping, the push.
    func attempt(_ delivery: Delivery, through target: any TargetAdapter) async -> DeliveryOutcome {
        let kind = EntityKind(rawValue: delivery.entityKind)
        guard let agreement = hub.policies.sharing.agreements[target.system], let grant = agreement.grants[kind] else {
            return .rejected(
                error: "Mappings/policies/sharing.yaml no longer grants \(kind) to \(target.system): nothing is sent; "
                    + "restore the grant and run 'liandong deliveries retry \(delivery.id)'")
        }
        guard Date() < agreement.expires else { return .expired(error: agreement.expiryMessage) }
        guard let mapping = catalog.outboundMapping(target: target.system, kind: kind) else {
            return .rejected(error: "no outbound mapping Mappings/\(target.system)/outbound/\(kind).yaml")
        }
        let rendered = mapping.render(
            grant.project(delivery.payload),
            envelope: .init(id: delivery.entityID.uuidString.lowercased(), version: delivery.entityVersion, kind: kind))
        do {
            let receipt = try await target.push(
                OutboundMessage(idempotencyKey: delivery.idempotencyKey, kind: kind, body: rendered.body, contentType: rendered.contentType))
            return .delivered(receipt: receipt.reference, body: rendered.body, contentType: rendered.contentType, agreementVersion: agreement.version)
        } catch let error as AdapterError where !error.isTransient {
            return .rejected(error: error.message, answer: error.answer)
        } catch {
            let attempts = delivery.attempts + 1
            let retryAt = attempts < configuration.maxAttempts ? Date().addingTimeInterval(backoff(after: attempts)) : nil
            return .failed(error: "\(error)", retryAt: retryAt, answer: (error as? AdapterError)?.answer)
        }
    }

    /// Seconds before the next attempt after `attempts` failures: doubling from the initial backoff,
    /// capped, with ±50 % jitter so that many deliveries failing together do not retry together.
    func backoff(after attempts: Int) -> TimeInterval {
        let base = configuration.initialBackoff.seconds * pow(2, Double(min(attempts - 1, 30)))
        return min(base, configuration.maxBackoff.seconds) * Double.random(in: 0.5...1.5)
    }

    /// Failures in a row to one target, and until when its circuit is open.
    struct Circuit {
        var failures = 0
        var openUntil: ContinuousClock.Instant?

        /// Counts an outcome; true when this failure opened the circuit.
        mutating func note(_ outcome: DeliveryOutcome, threshold: Int, open: Duration) -> Bool {
            guard case .failed = outcome else {
                failures = 0
                openUntil = nil
                return false
            }
            failures += 1
            guard failures >= threshold else { return false }
            failures = 0
            openUntil = .now + open
            return true
        }
    }
}

/// A wake-up call that is remembered until someone waits for it.
final class Wakeup: Sendable {
    private let state = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next signal (or at once for one already given), or after `timeout`.
    func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.signal()
            }
            await group.next()
            group.cancelAll()
        }
    }
}
