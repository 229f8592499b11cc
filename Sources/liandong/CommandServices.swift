import ArgumentParser
import Foundation
import LiandongHub
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Turns the first SIGTERM or SIGINT into a graceful shutdown of the command's service group (it
/// ends, and is configured to shut the group down when it does), and remembers which signal came.
/// The signals are trapped from the moment the sequence is made, before anything starts, so one that
/// comes while the embedded cluster is being initialised waits for it instead of orphaning it.
struct SignalWatch: Service {
    let signals: UnixSignalsSequence
    let received = SignalReceived()

    func run() async throws {
        for await signal in signals.cancelOnGracefulShutdown() {
            received.record(signal)
            return
        }
    }
}

/// The signal a `SignalWatch` saw, if any.
final class SignalReceived: Sendable {
    private let signal = Mutex<UnixSignal?>(nil)

    func record(_ received: UnixSignal) { signal.withLock { $0 = received } }

    /// The exit status of a command stopped by it: 128 + its number.
    var exitCode: ExitCode? {
        signal.withLock { $0 }.map { ExitCode(128 + $0.rawValue) }
    }
}

/// Opens once the command's database is ready (started, created and migrated); services that use
/// it wait here. A failure to get it ready is thrown to every waiter.
final class DatabaseGate: Sendable {
    private enum State {
        case waiting([UUID: CheckedContinuation<Void, any Error>])
        case done(Result<Void, any Error>)
    }

    private let state = Mutex(State.waiting([:]))

    func open(_ result: Result<Void, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(result)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    /// Returns once the database is ready; throws its failure, or `CancellationError` when cancelled.
    func ready() async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let done = state.withLock { state -> Result<Void, any Error>? in
                    switch state {
                    case .done(let result): return result
                    case .waiting(var waiters):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters[id] = continuation
                        state = .waiting(waiters)
                        return nil
                    }
                }
                if let done { continuation.resume(with: done) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard case .waiting(var waiters) = state, let waiter = waiters.removeValue(forKey: id) else { return nil }
                state = .waiting(waiters)
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}

/// The command's database: the configured server, or the embedded cluster, started here when it is
/// not running (and then stopped here, last of the group, when the group shuts down). Creates the
/// database, applies the migrations and makes the tables of the declared record kinds (through the
/// command's `hub`, whose copies then know them), then opens the gate.
struct DatabaseService: Service {
    let location: DatabaseLocation
    /// The embedded cluster, when no URL is configured.
    let embedded: EmbeddedPostgres?
    let gate: DatabaseGate
    let hub: Hub
    let logger: Logger

    func run() async throws {
        var started = false
        do {
            if let embedded {
                started = try embedded.start()
                // Asked to stop while the cluster started: stop it again, open nothing.
                if Task.isShuttingDownGracefully { throw CancellationError() }
                try await Hub.createDatabaseIfNeeded(at: location, logger: logger)
            }
            _ = try await Hub.withHub(at: location, policies: .none, logger: logger) { try await $0.migrate() }
            try await hub.loadKinds()
            gate.open(.success(()))
        } catch {
            gate.open(.failure(error))
            if started { embedded?.stop() }
            // Asked to stop while starting: whatever the start then failed with is the stop's doing.
            if error is CancellationError || Task.isShuttingDownGracefully { return }
            throw error
        }
        // Shut down gracefully or cancelled, a cluster this command started stops either way.
        try? await gracefulShutdown()
        if started { embedded?.stop() }
    }
}

/// Runs `service` once the database is ready; a group that shuts down before that ends it unstarted.
struct AfterDatabase: Service {
    let service: any Service
    let gate: DatabaseGate

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await gate.ready() }
        } catch is CancellationError {
            return
        }
        try await service.run()
    }
}
