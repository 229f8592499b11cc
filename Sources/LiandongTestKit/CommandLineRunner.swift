import Foundation

/// Runs the built `liandong` executable (or another program). Output goes to files and the exit is
/// awaited through the termination handler: blocking reads or `waitUntilExit()` would hold cooperative
/// threads (two on a two-core machine) that the in-process simulators need to answer the command.
public struct CommandLineRunner: Sendable {
    public var executable: URL
    public var environment: [String: String]

    /// A runner of `executable` (by default the built `liandong`) with `environment` added to this
    /// process's.
    public init(executable: URL = Repository.executable, environment: [String: String] = [:]) {
        self.executable = executable
        self.environment = environment
    }

    /// How the command ended and what it printed.
    public struct Output: Sendable {
        public var status: Int32
        public var killedBySignal: Bool
        public var stdout: String
        public var stderr: String
    }

    /// Runs the command to its end.
    public func run(_ arguments: [String]) async throws -> Output {
        try await start(arguments).output.value
    }

    /// Starts the CLI; `output` completes when it exits, `stdout` is where its standard output is being written.
    public func start(_ arguments: [String]) throws -> (pid: pid_t, output: Task<Output, any Error>, stdout: URL) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = Repository.root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let files = ["out", "err"].map { Scratch.path("cli", extension: $0) }
        for file in files { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: files[0])
        process.standardError = try FileHandle(forWritingTo: files[1])
        let (exits, exited) = AsyncStream<(Int32, Bool)>.makeStream()
        process.terminationHandler = { process in
            exited.yield((process.terminationStatus, process.terminationReason == .uncaughtSignal))
            exited.finish()
        }
        try process.run()
        let output = Task {
            var result = (Int32(-1), false)
            for await exit in exits { result = exit }
            defer { files.forEach { try? FileManager.default.removeItem(at: $0) } }
            return Output(
                status: result.0, killedBySignal: result.1,
                stdout: try String(contentsOf: files[0], encoding: .utf8), stderr: try String(contentsOf: files[1], encoding: .utf8))
        }
        return (process.processIdentifier, output, files[0])
    }

    /// The port a `serve` told to listen on port 0 reports in its first line
    /// (`… http://127.0.0.1:PORT/metrics`), waiting for it up to a minute.
    public static func listeningPort(in stdout: URL) async throws -> Int {
        try await eventually("serve prints the port it listens on", within: .seconds(60)) {
            let text = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
            return text.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)\//).flatMap { Int($0.1) }
        }
    }
}
