import ArgumentParser
import LiandongAdapterKit
import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongSimulator
import LiandongSync
import Synchronization

/// Sends records one at a time into an exchange drop folder while the pieces of `serve` run — the
/// stream synced every `--interval`, the pusher woken by NOTIFY, the simulated 110 and 119 receiving —
/// and reports how long each change took to be committed in the hub, and each delivery to reach its
/// receiver after the commit.
struct LatencyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Change-to-commit and commit-to-delivery latency, one record at a time, p50 and p99.",
        discussion: """
            Each record of --input that maps is written to the drop folder at a random moment of the poll \
            interval. Commit latency runs from that write to the end of the sync that committed it (goal: the \
            interval plus 200 ms); delivery latency from the ingest transaction to the receiver's acceptance \
            (goal: 500 ms), both as PostgreSQL recorded them on the delivery.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: BenchDatabase
    @Option(help: "A JSON-lines file (gen.py's shape) whose records are sent.") var input: String
    @Option(help: "How many records to send.") var changes = 50
    @Option(help: "Seconds between two polls of the drop folder.") var interval = 1.0
    @OptionGroup var output: OutputOptions

    /// The measurements, in milliseconds.
    struct Report: Codable {
        var changes: Int
        var pollIntervalMilliseconds: Double
        var commitP50: Double
        var commitP99: Double
        var deliveries: Int
        var deliveryP50: Double
        var deliveryP99: Double
    }

    func validate() throws {
        guard changes > 0, interval > 0 else { throw ValidationError("--changes and --interval must be positive") }
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("--input \(input): no such file") }
    }

    func run() async throws {
        let runtime = try Runtime(global)
        let catalog = try runtime.catalog()
        let lines = try Self.mappingLines(of: input, count: changes, mapping: try catalog.mapping(named: "exchange/report"))
        guard lines.count == changes else {
            throw ValidationError("--input \(input): its first 4 MiB hold \(lines.count) records that map; --changes asks for \(changes)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("liandong-latency-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("changes.jsonl")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let receivers = [AgencySimulator.Agency.police, .fire].map { AgencySimulator(.init(agency: $0, records: 0)) }

        let report = try await withThrowingTaskGroup(of: Void.self) { group in
            for receiver in receivers { group.addTask { try await receiver.run(logger: runtime.logger) } }
            defer { group.cancelAll() }
            while receivers.contains(where: { $0.port == nil }) { try await Task.sleep(for: .milliseconds(20)) }
            let agencies = try runtime.adapters()
            let adapters = try receivers.map {
                try agencies.make($0.configuration.agency.rawValue, baseURL: $0.baseURL!, token: $0.configuration.token, logger: runtime.logger)
            }
            return try await database.withHub(runtime) { hub in
                let engine = SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger)
                let pusher = DeliveryPusher(
                    hub: engine.hub, catalog: catalog, targets: AdapterCatalog.targets(adapters, sharing: catalog.policies.sharing),
                    instance: "bench", configuration: runtime.configuration.delivery, logger: runtime.logger)
                return try await measure(lines, into: file, exchange: try agencies.definition("exchange"), engine: engine, pusher: pusher)
            }
        }
        if output.json {
            try printJSON(report)
        } else {
            print(
                "\(report.changes) changes, polled every \(Self.ms(report.pollIntervalMilliseconds)): committed p50 "
                    + "\(Self.ms(report.commitP50)), p99 \(Self.ms(report.commitP99)); \(report.deliveries) deliveries, "
                    + "delivered after the commit p50 \(Self.ms(report.deliveryP50)), p99 \(Self.ms(report.deliveryP99))")
        }
    }

    /// Writes the lines one at a time, each at a random moment of the poll interval, while the stream
    /// is synced every `interval` and the pusher runs; then waits for the deliveries.
    private func measure(
        _ lines: [[UInt8]], into file: URL, exchange: AdapterDefinition, engine: SyncEngine, pusher: DeliveryPusher
    ) async throws -> Report {
        let source = FolderSource(definition: exchange, location: file.deletingLastPathComponent(), stream: "latency-\(Int(Date().timeIntervalSince1970))")
        let committed = CommitTimes()
        return try await withThrowingTaskGroup(of: Void.self) { work in
            work.addTask { try await pusher.run() }
            work.addTask {
                while true {
                    let run = try await engine.sync(source.streams[0], of: source)
                    let now = ContinuousClock.now
                    committed.times.withLock { $0 += Array(repeating: now, count: run.summary.inserted) }
                    try await Task.sleep(for: .seconds(interval))
                }
            }
            defer { work.cancelAll() }
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            var commits: [Double] = []
            for (index, line) in lines.enumerated() {
                try await Task.sleep(for: .seconds(Double.random(in: 0..<interval)))
                let written = ContinuousClock.now
                try handle.seekToEnd()
                try handle.write(contentsOf: line + [UInt8(ascii: "\n")])
                while committed.times.withLock({ $0.count }) <= index { try await Task.sleep(for: .milliseconds(1)) }
                commits.append(Self.milliseconds(committed.times.withLock { $0[index] } - written))
            }
            let hub = engine.hub
            _ = try await hub.outbox.waitForDeliveries(seconds: 30)
            let delivered = try await hub.outbox.deliveries(statuses: [.delivered], target: nil, limit: 100_000)
            let deliveries = delivered.compactMap { delivery in delivery.deliveredAt.map { $0.timeIntervalSince(delivery.createdAt) * 1000 } }
            return Report(
                changes: lines.count, pollIntervalMilliseconds: interval * 1000, commitP50: Self.percentile(50, of: commits),
                commitP99: Self.percentile(99, of: commits), deliveries: deliveries.count,
                deliveryP50: Self.percentile(50, of: deliveries), deliveryP99: Self.percentile(99, of: deliveries))
        }
    }

    /// The first `count` lines of `file` (read from its first 4 MiB) that `mapping` maps: records the
    /// hub quarantines would be committed but never delivered.
    static func mappingLines(of file: String, count: Int, mapping: Mapping) throws -> [[UInt8]] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        let limit = 4 << 20
        let head = [UInt8](try handle.read(upToCount: limit) ?? Data())
        // A file longer than the limit is cut in the middle of a line: that piece is left out.
        let pieces = head.split(separator: UInt8(ascii: "\n"))
        var lines: [[UInt8]] = []
        for line in head.count < limit ? pieces[...] : pieces.dropLast() where lines.count < count {
            if case .mapped? = mapping.map(Array(line)).records.first { lines.append(Array(line)) }
        }
        return lines
    }

    /// The `p`th percentile (nearest rank) of `values`; 0 for none.
    static func percentile(_ p: Double, of values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[max(Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1, 0)]
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func ms(_ value: Double) -> String { "\(Int(value.rounded())) ms" }
}

/// When each record sent was committed, in order, shared by the sync task and the sender.
final class CommitTimes: Sendable {
    let times = Mutex<[ContinuousClock.Instant]>([])
}
