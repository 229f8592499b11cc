import ArgumentParser
import AsyncHTTPClient
import Foundation
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongServer
import LiandongSync
import Logging

/// `liandong bench console`: the console's pages and API answers timed on a hub of a given size. The
/// hub is filled by SQL (`Hub.fillForConsoleBenchmark`: work orders, incidents, deliveries, failures,
/// audit entries, a day of runs), the console is served on a loopback port, and each page is asked for
/// `--repeat` times after one warm-up, over HTTP with an admin's token, as a browser would.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Time the console's pages and API on a hub of --records work orders (filled by SQL in a throwaway database).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: BenchDatabase
    @Option(help: "Work orders in the hub (and as many deliveries and audit entries, half as many incidents).") var records = 1_000_000
    @Option(help: "Timed requests per page, after one warm-up.") var `repeat` = 5
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard records >= 200 else { throw ValidationError("--records: at least 200") }
        guard `repeat` >= 1 else { throw ValidationError("--repeat: at least 1") }
    }

    /// One page's times.
    struct Timing: Codable {
        var page: String
        var status: Int
        var bytes: Int
        var medianMilliseconds: Double
        var maxMilliseconds: Double
    }

    struct Report: Codable {
        var data: Hub.BenchmarkData
        var fillSeconds: Double
        var timings: [Timing]
    }

    func run() async throws {
        let runtime = try Runtime(global)
        let catalog = try runtime.catalog()
        let report = try await database.withHub(runtime) { hub in
            let stats = try await hub.inspection.stats()
            guard stats.entities.values.reduce(0, +) == 0, stats.auditHead == 0, try await !hub.console.hasUsers() else {
                throw CouldNotRun("bench console fills the database by SQL: give it an empty one (or no --database-url)")
            }
            let started = ContinuousClock.now
            let data = try await hub.fillForConsoleBenchmark(records: records)
            let fill = (ContinuousClock.now - started).seconds
            if !output.json { print("filled: \(data.workOrders) work orders, \(data.incidents) incidents, \(data.deliveries) deliveries, \(data.failures) failures in \(String(format: "%.0f", fill)) s") }
            let token = "ld_bench_" + Console.secret()
            try await hub.console.createUser(
                name: "bench", passwordHash: Console.hash(password: Console.secret()), grants: Role.allCases.map { Grant($0) } + [.personalData()],
                by: ActingUser("bench", reason: "bench console"))
            try await hub.console.createToken(named: "bench", secret: token, for: "bench", by: ActingUser("bench", reason: "bench console"))
            let failure = try await hub.quarantine.ids(.init(), limit: 1).first ?? 1
            let pages = [
                "/", "/errors", "/errors?q=\(data.quarantinedWorkOrder)", "/errors?status=all&rule=code", "/errors/\(failure)",
                "/incidents", "/incidents?status=open&division=420105", "/incidents?q=GD000500000", "/incidents?q=解放大道1999号", "/incidents/\(data.incidents / 2)",
                "/deliveries", "/deliveries?status=dead", "/deliveries?target=police-110&status=dead&before=500000", "/deliveries/\(data.deliveries / 2)",
                "/streams", "/loops", "/audit", "/api/v1/overview", "/api/v1/errors?status=all", "/api/v1/incidents", "/api/v1/deliveries?status=dead",
                "/api/v1/audit/actions",
            ]
            let timings = try await Self.time(pages, hub: hub, catalog: catalog, token: token, repeat: `repeat`, logger: runtime.logger)
            return Report(data: data, fillSeconds: fill, timings: timings)
        }
        if output.json { return try printJSON(report) }
        for t in report.timings {
            let page = t.page.padding(toLength: max(62, t.page.count), withPad: " ", startingAt: 0)
            print(page + String(format: " %3d %8d B  median %7.1f ms  max %7.1f ms", t.status, t.bytes, t.medianMilliseconds, t.maxMilliseconds))
        }
    }

    /// Serves the console on a loopback port and times each of `pages`.
    static func time(
        _ pages: [String], hub: Hub, catalog: MappingCatalog, token: String, repeat: Int, logger: Logger
    ) async throws -> [Timing] {
        let jobs = JobRunner(hub: hub, engine: SyncEngine(hub: hub, catalog: catalog, logger: logger), logger: logger)
        let console = try await Console(hub: hub, catalog: catalog, jobs: jobs, logger: logger)
        let (bound, port) = AsyncStream.makeStream(of: Int.self)
        let application = OperationsServer.application(
            hub: hub, registry: .init(), host: "127.0.0.1", port: 0, console: console, logger: logger, onBound: { port.yield($0) })
        return try await withThrowingTaskGroup(of: [Timing].self) { group in
            group.addTask {
                try await application.run()
                return []
            }
            defer { group.cancelAll() }
            var ports = bound.makeAsyncIterator()
            guard let listening = await ports.next() else { throw CouldNotRun("the console did not start") }
            var timings: [Timing] = []
            for page in pages {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(listening)\(page)")
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                var samples: [Double] = []
                var status = 0
                var bytes = 0
                for attempt in 0...`repeat` {
                    let started = ContinuousClock.now
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                    let body = try await response.body.collect(upTo: 64 << 20)
                    if attempt > 0 { samples.append((ContinuousClock.now - started).seconds * 1000) }
                    status = Int(response.status.code)
                    bytes = body.readableBytes
                }
                samples.sort()
                timings.append(Timing(page: page, status: status, bytes: bytes, medianMilliseconds: samples[samples.count / 2], maxMilliseconds: samples.last ?? 0))
            }
            return timings
        }
    }
}
