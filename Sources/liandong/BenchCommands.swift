import ArgumentParser
import LiandongAdapterKit
import Foundation
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync

/// `liandong bench`: measurements of the hub's own paths, printed so that runs can be compared.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the hub: records per second, CPU, peak memory, time per stage.", subcommands: [IngestBench.self, LatencyBench.self, IdentityBench.self, ConsoleBench.self])
}

/// Ingests JSON-lines files (the shape `bench/peers/gen.py` writes) through the real path — the
/// exchange-folder source, its mapping, identity, authority, audit and outbox — one file after the
/// other into one database, and reports each file as a phase.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Ingest JSON-lines files through the exchange source and report throughput per file.",
        discussion: """
            Give --input several times to measure phases on one database: an initial load, then changed \
            versions, then the initial file again (a re-poll of identical pages). With --concurrent the \
            files are instead ingested at the same time, each as a source of its own (exchange-1, \
            exchange-2, …), as a deployment runs several agencies' systems, and the report adds their \
            combined records/s. Without --database-url the run gets a fresh embedded PostgreSQL of its \
            own, removed afterwards.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "A JSON-lines file; repeat for phases run one after the other.") var input: [String]
    @OptionGroup var database: BenchDatabase
    @Option(help: "Lines per page (one page is one ingest transaction).") var pageSize = 1000
    @Flag(help: "Ingest the --input files at the same time, each a source of its own.") var concurrent = false
    @OptionGroup var output: OutputOptions

    /// One file's measurements.
    struct Phase: Codable {
        var input: String
        var records: Int
        var inserted: Int
        var updated: Int
        /// Neither inserted, updated nor quarantined: unchanged, older than what the hub holds, or on a page stored before.
        var unchanged: Int
        var quarantined: Int
        var wallSeconds: Double
        var cpuSeconds: Double
        /// PostgreSQL's CPU over the same time, when the server runs on this machine (`ServerCPU`).
        var serverCPUSeconds: Double?
        var recordsPerSecond: Double
        var stageSeconds: [String: Double]
    }

    func validate() throws {
        guard !input.isEmpty else { throw ValidationError("give at least one --input FILE.jsonl") }
        for file in input where !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("--input \(file): no such file")
        }
    }

    func run() async throws {
        let runtime = try Runtime(global)
        let catalog = try runtime.catalog()
        let (phases, together) = try await database.withHub(runtime) { hub in
            // Streams named per run: a database given with --database-url reads each file again,
            // whatever cursors earlier runs left there.
            let run = Int(Date().timeIntervalSince1970)
            let server = ServerCPU(backend: try await hub.serverProcessID())
            let streams = input.enumerated().map { (file: $1, stream: "bench-\(run)-\($0 + 1)") }
            guard concurrent else {
                var phases: [Phase] = []
                for (file, stream) in streams {
                    phases.append(try await measure(file, stream: stream, hub: hub, server: server, catalog: catalog, runtime: runtime))
                    if !output.json { print(Self.line(phases.last!)) }
                }
                return (phases, Together?.none)
            }
            let before = CPUReading(server: server)
            let started = ContinuousClock.now
            let phases = try await withThrowingTaskGroup(of: (Int, Phase).self) { group in
                for (number, (file, stream)) in streams.enumerated() {
                    let source = SourceSystemID("exchange-\(number + 1)")
                    group.addTask {
                        (number, try await measure(file, stream: stream, as: source, hub: hub, server: server, catalog: catalog, runtime: runtime))
                    }
                }
                return try await group.reduce(into: [Phase?](repeating: nil, count: streams.count)) { $0[$1.0] = $1.1 }.compactMap { $0 }
            }
            let wall = (ContinuousClock.now - started).seconds
            let records = phases.reduce(0) { $0 + $1.records }
            let used = CPUReading(server: server).since(before)
            let together = Together(
                streams: phases.count, records: records, wallSeconds: wall, cpuSeconds: used.hub, serverCPUSeconds: used.server,
                recordsPerSecond: Double(records) / wall)
            if !output.json {
                for phase in phases { print(Self.line(phase)) }
                print(
                    "\(together.streams) streams at once: \(records) records in \(String(format: "%.2f", wall)) s = "
                        + "\(Int(together.recordsPerSecond.rounded())) records/s; "
                        + Self.cpu(together.cpuSeconds, server: together.serverCPUSeconds))
            }
            return (phases, together)
        }
        let peak = ResourceUsage.now().peakResidentMiB
        if output.json {
            try printJSON(Report(phases: phases, together: together, peakResidentMiB: peak, pageSize: pageSize))
        } else {
            print("peak RSS \(String(format: "%.1f", peak)) MiB (this process; PostgreSQL's own memory is not counted)")
        }
    }

    struct Report: Codable {
        var phases: [Phase]
        /// With --concurrent: the streams taken together.
        var together: Together?
        var peakResidentMiB: Double
        var pageSize: Int
    }

    /// Streams ingested at the same time, taken together (with --concurrent). A phase's own CPU
    /// seconds are the whole process's over its time, so with several at once they overlap.
    struct Together: Codable {
        var streams: Int
        var records: Int
        var wallSeconds: Double
        var cpuSeconds: Double
        var serverCPUSeconds: Double?
        var recordsPerSecond: Double
    }

    /// Ingests `file` through the exchange source, or through a copy of it named `source` (its own
    /// records, which the hub writes beside other sources' until identity).
    private func measure(
        _ file: String, stream: String, as source: SourceSystemID? = nil, hub: Hub, server: ServerCPU?, catalog: MappingCatalog,
        runtime: Runtime
    ) async throws -> Phase {
        // Counted here, outside the timed run: pages stored before are skipped unread by the engine.
        let records = try Self.lineCount(of: file)
        let clock = StageClock()
        var definition = try runtime.adapters().definition("exchange")
        var catalog = catalog
        if let source {
            definition.system = source
            for stream in definition.streams { catalog.mappings[stream.mapping]?.spec.source = source.rawValue }
        }
        let adapter = FolderSource(definition: definition, location: URL(fileURLWithPath: file), pageSize: pageSize, stream: stream)
        let engine = SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger, maxPages: .max, clock: clock)
        let before = CPUReading(server: server)
        let started = ContinuousClock.now
        let run = try await engine.sync(adapter.streams[0], of: adapter)
        let wall = ContinuousClock.now - started
        let used = CPUReading(server: server).since(before)
        if let error = run.error { throw CouldNotRun("\(file): \(error)") }
        let seconds = wall.seconds
        return Phase(
            input: file, records: records, inserted: run.summary.inserted, updated: run.summary.updated,
            unchanged: records - run.summary.inserted - run.summary.updated - run.summary.failures, quarantined: run.summary.failures,
            wallSeconds: seconds, cpuSeconds: used.hub, serverCPUSeconds: used.server, recordsPerSecond: Double(records) / seconds,
            stageSeconds: Dictionary(uniqueKeysWithValues: clock.seconds.map { ($0.key.rawValue, $0.value) }))
    }

    /// The non-blank lines of `file`: its records.
    static func lineCount(of file: String) throws -> Int {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        var count = 0
        var lineHasText = false
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            for byte in chunk {
                if byte == UInt8(ascii: "\n") {
                    if lineHasText { count += 1 }
                    lineHasText = false
                } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\r") && byte != UInt8(ascii: "\t") {
                    lineHasText = true
                }
            }
        }
        return count + (lineHasText ? 1 : 0)
    }

    /// The CPU of this process and of PostgreSQL, with the shortest wall time the two could take
    /// together on this machine's cores, were neither ever waiting for the other.
    static func cpu(_ seconds: Double, server: Double?) -> String {
        let hub = "CPU \(String(format: "%.2f", seconds)) s"
        guard let server else { return hub }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return hub + " + PostgreSQL \(String(format: "%.2f", server)) s "
            + "(\(String(format: "%.2f", (seconds + server) / Double(cores))) s at best on \(cores) cores)"
    }

    static func line(_ phase: Phase) -> String {
        let stages = StageClock.Stage.allCases.map { "\($0.rawValue) \(String(format: "%.2f", phase.stageSeconds[$0.rawValue] ?? 0))s" }
        return "\(phase.input): \(phase.records) records in \(String(format: "%.2f", phase.wallSeconds)) s = "
            + "\(Int(phase.recordsPerSecond.rounded())) records/s; \(cpu(phase.cpuSeconds, server: phase.serverCPUSeconds)); "
            + "inserted \(phase.inserted), updated \(phase.updated), unchanged \(phase.unchanged), quarantined \(phase.quarantined); "
            + stages.joined(separator: ", ")
    }
}

/// `--database-url`, or a fresh embedded PostgreSQL for the run.
struct BenchDatabase: ParsableArguments {
    @Option(help: "PostgreSQL URL to run on instead of a fresh embedded database.") var databaseURL: String?

    /// Runs `body` on the hub at `--database-url`, or on a fresh embedded PostgreSQL in a folder of
    /// its own, removed afterwards; `Runtime.withHub` starts, migrates and stops it.
    func withHub<Result: Sendable>(_ runtime: Runtime, _ body: (Hub) async throws -> Result) async throws -> Result {
        var runtime = runtime
        if let databaseURL {
            runtime.configuration.databaseURL = databaseURL
            return try await runtime.withHub(body)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("liandong-bench-\(getpid())")
        runtime.configuration.dataDirectory = folder
        // Interrupted too: the command's services stop the server first, then this goes.
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await runtime.withHub(body)
    }
}

/// This process's CPU time and peak resident memory (`getrusage`).
struct ResourceUsage {
    var cpuSeconds: Double
    var peakResidentMiB: Double

    static func now() -> ResourceUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        // Linux reports ru_maxrss in KiB.
        return ResourceUsage(
            cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime), peakResidentMiB: Double(usage.ru_maxrss) / 1024)
    }
}

/// This process's CPU seconds so far and, when it is read (`ServerCPU`), PostgreSQL's.
struct CPUReading {
    var hub: Double
    var server: Double?

    init(server: ServerCPU?) {
        hub = ResourceUsage.now().cpuSeconds
        self.server = server?.seconds()
    }

    /// The CPU used from `earlier` to this reading: the server's only when both readings have it.
    func since(_ earlier: CPUReading) -> (hub: Double, server: Double?) {
        (hub - earlier.hub, server.flatMap { now in earlier.server.map { now - $0 } })
    }
}

/// The CPU time of a PostgreSQL server on this machine, read from Linux's `/proc`: the postmaster's
/// own, that of the children it has reaped, and that of every child still running (backends, WAL
/// writer, checkpointer, autovacuum). The difference of two readings is the server's CPU between them,
/// since a child that exits in between moves its whole time into the reaped total.
struct ServerCPU {
    /// The server's postmaster process.
    let postmaster: Int32

    /// The server of the backend `process`, or nil when `/proc` does not show it: a server on another
    /// machine, or in a container, whose process ids are not this machine's (the process of that
    /// number here, if any, is then not PostgreSQL's).
    init?(backend process: Int32) {
        guard let backend = Self.stat(of: process), backend.command == "postgres",
            Self.stat(of: backend.parent)?.command == "postgres"
        else { return nil }
        postmaster = backend.parent
    }

    /// The server's CPU seconds so far; nil once the postmaster is gone.
    func seconds() -> Double? {
        guard let server = Self.stat(of: postmaster) else { return nil }
        var ticks = server.ticks + server.reapedChildrenTicks
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for case let process? in processes.map(Int32.init) {
            if let child = Self.stat(of: process), child.parent == postmaster { ticks += child.ticks }
        }
        return Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The fields of `/proc/PID/stat` this reads (proc(5)).
    struct Stat {
        var command: Substring
        var parent: Int32
        var ticks: Int
        var reapedChildrenTicks: Int
    }

    /// Reads `/proc/PID/stat`. The second field, the command in parentheses, may hold spaces and
    /// parentheses itself, so the fields are counted from the last ')'.
    static func stat(of process: Int32) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
            let start = text.firstIndex(of: "("), let end = text.lastIndex(of: ")"), start < end
        else { return nil }
        // From the third field on: state, ppid, …, utime (14th), stime, cutime, cstime (17th).
        let fields = text[text.index(after: end)...].split(separator: " ")
        guard fields.count > 14, let parent = Int32(fields[1]), let user = Int(fields[11]), let system = Int(fields[12]),
            let childrenUser = Int(fields[13]), let childrenSystem = Int(fields[14])
        else { return nil }
        return Stat(
            command: text[text.index(after: start)..<end], parent: parent, ticks: user + system,
            reapedChildrenTicks: childrenUser + childrenSystem)
    }
}
