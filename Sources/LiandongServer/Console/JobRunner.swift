import Foundation
import LiandongHub
import LiandongSync
import Logging
import ServiceLifecycle

/// Runs the console's bulk jobs one after another, in the background of `serve` or `demo`: each item
/// is its own audited transaction and the job's progress is stored as it goes, so that the job page
/// shows it and a job cut short by a restart says how far it got.
public struct JobRunner: Service {
    /// One bulk job: which items, what to do with them, and who asked.
    struct Job: Sendable {
        enum Action: Sendable {
            case replay([Int64])
            case ignore([Int64])
            case retry([Int64])
        }
        var id: Int64
        var action: Action
        var actor: ActingUser
    }

    let hub: Hub
    let engine: SyncEngine
    let logger: Logger
    private let queue: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation

    /// A runner over `hub`, replaying with `engine`.
    public init(hub: Hub, engine: SyncEngine, logger: Logger) {
        self.hub = hub
        self.engine = engine
        self.logger = logger
        (queue, continuation) = AsyncStream.makeStream(of: Job.self)
    }

    func submit(_ job: Job) {
        continuation.yield(job)
    }

    public func run() async throws {
        for await job in queue.cancelOnGracefulShutdown() {
            await perform(job)
        }
    }

    private func perform(_ job: Job) async {
        do {
            switch job.action {
            case .replay(let ids):
                for id in ids {
                    try Task.checkCancellation()
                    let outcome = try? await engine.replay(id, dryRun: false, by: job.actor, job: job.id)
                    try await hub.console.advance(job: job.id, failed: outcome?.failures.isEmpty != true)
                }
            case .ignore(let ids):
                for id in ids {
                    try Task.checkCancellation()
                    let ignored: Void? = try? await hub.quarantine.ignore(id, by: job.actor, job: job.id)
                    try await hub.console.advance(job: job.id, failed: ignored == nil)
                }
            case .retry(let ids):
                // One at a time, as the others: each its own audited transaction, progress as it goes.
                for id in ids {
                    try Task.checkCancellation()
                    let changed = (try? await hub.outbox.retry([id], statuses: [.dead, .expired], by: job.actor)) ?? []
                    try await hub.console.advance(job: job.id, failed: changed.isEmpty)
                }
            }
            try await hub.console.finish(job: job.id)
        } catch {
            logger.error("Bulk job stopped", metadata: ["liandong.job": "\(job.id)", "liandong.error": "\(String(reflecting: error))"])
            try? await hub.console.finish(job: job.id, error: "\(error)")
        }
    }
}
