import Foundation
import LiandongAdapterKit
import LiandongHub
import Logging
import Metrics
import ServiceLifecycle

/// Runs every stream of every configured source on its schedule, under a lease in PostgreSQL, so that
/// any number of instances can run against one database and each stream's sync runs on exactly one
/// of them at a time. A dead instance's leases expire and another takes the streams over.
///
/// One task per stream: it waits until the stream is due, claims its lease (`FOR UPDATE SKIP LOCKED`),
/// syncs page by page renewing the lease before each page, records the outcome and the next run
/// (backing off exponentially after failures), and gives the lease up. On graceful shutdown the
/// current page's transaction finishes and no new page starts.
public struct StreamScheduler: Service {
    /// A source's adapter and when it runs.
    public struct Job: Sendable {
        public var adapter: any SourceAdapter
        public var schedule: Schedule
        public init(adapter: any SourceAdapter, schedule: Schedule) {
            self.adapter = adapter
            self.schedule = schedule
        }
    }

    public let engine: SyncEngine
    public let jobs: [Job]
    /// This instance's name in leases.
    public let instance: String
    public let leaseSeconds: Double
    /// How often an idle stream looks at its state (a paused stream, another holder, a due time).
    public let pollInterval: Duration

    public init(engine: SyncEngine, jobs: [Job], instance: String, leaseSeconds: Double, pollInterval: Duration = .seconds(1)) {
        self.engine = engine
        self.jobs = jobs
        self.instance = instance
        self.leaseSeconds = leaseSeconds
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for job in jobs {
                for stream in job.adapter.streams {
                    group.addTask { await loop(stream, job) }
                }
            }
        }
    }

    private func loop(_ stream: SourceStream, _ job: Job) async {
        let hub = engine.hub
        let source = job.adapter.system.rawValue
        let lease = StreamStore.leaseName(source: source, stream: stream.name)
        let held = Gauge(label: "liandong_leases_held", dimensions: [("stream", "\(source)/\(stream.name)")])
        let lag = Gauge(label: "liandong_stream_lag_seconds", dimensions: [("stream", "\(source)/\(stream.name)")])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if try await hub.streams.claimStream(source: source, stream: stream.name, holder: instance, lease: leaseSeconds) {
                    held.record(1)
                    try await runClaimed(stream, job, lease: lease)
                    held.record(0)
                    if let status = try await hub.streams.statuses().first(where: { $0.source == source && $0.stream == stream.name }),
                        let seconds = status.lagSeconds
                    {
                        lag.record(seconds)
                    }
                }
            } catch {
                held.record(0)
                // The database is away (restarting, failing over): keep trying; the lease expires by itself.
                engine.logger.warning(
                    "Stream scheduling failed; retrying",
                    metadata: ["liandong.source": "\(source)", "liandong.stream": "\(stream.name)", "liandong.error": "\(error)"])
            }
            try? await gracefulShutdown(orSleep: pollInterval)
        }
    }

    private func runClaimed(_ stream: SourceStream, _ job: Job, lease: String) async throws {
        let hub = engine.hub
        let source = job.adapter.system.rawValue
        let instance = instance
        let leaseSeconds = leaseSeconds
        let run = try await engine.sync(stream, of: job.adapter) {
            // Between pages: stop on shutdown, and never write a page without holding the lease.
            guard !Task.isShuttingDownGracefully else { return false }
            return try await hub.streams.renewLease(lease, holder: instance, lease: leaseSeconds)
        }
        let failures = run.error == nil ? 0 : try await hub.streams.consecutiveFailures(source: source, stream: stream.name) + 1
        if run.error != nil {
            Counter(label: "liandong_stream_failures_total", dimensions: [("stream", "\(source)/\(stream.name)")]).increment()
        }
        let next = job.schedule.next(after: Date(), failures: failures)
        try await hub.streams.finishStreamRun(source: source, stream: stream.name, holder: instance, error: run.error, nextRun: next)
        try await hub.streams.releaseLease(lease, holder: instance)
    }
}

/// Sleeps for `duration`, returning early when a graceful shutdown begins.
func gracefulShutdown(orSleep duration: Duration) async throws {
    try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
}
