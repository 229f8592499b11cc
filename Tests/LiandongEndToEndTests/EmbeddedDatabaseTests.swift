import Foundation
import LiandongHub
import LiandongTestKit
import LiandongTestSupport
import Testing

/// The embedded PostgreSQL as people use it, through the CLI, each test in its own data directory.
@Suite(.tags(.database), .runsWithDatabase, .serialized) struct EmbeddedDatabaseTests {
    let dataDirectory = Scratch.path("db")
    let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": ""])

    var server: EmbeddedPostgres { get throws { try EmbeddedPostgres(dataDirectory: dataDirectory, logger: TestDatabase.logger) } }

    func liandong(_ arguments: String...) async throws -> CommandLineRunner.Output {
        try await cli.run(arguments + ["--data-dir", dataDirectory.path])
    }

    func cleanUp() throws {
        try server.stop()
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    @Test func startUrlStop() async throws {
        defer { try? cleanUp() }
        let started = try await liandong("db", "start")
        #expect(started.status == 0, "\(started.stderr)")
        let url = try await liandong("db", "url").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(started.stdout.contains(url))
        #expect(url.hasPrefix("postgresql://"))
        // A command on a running server leaves it running.
        #expect(try await liandong("stats").status == 0)
        #expect(try server.isRunning())
        #expect(try await liandong("db", "stop").stdout.contains("Stopped"))
        #expect(try !server.isRunning())
    }

    /// A server killed with -9 leaves `postmaster.pid` behind; the next command recovers.
    @Test func stalePostmasterPidIsRecovered() async throws {
        defer { try? cleanUp() }
        #expect(try await liandong("db", "start").status == 0)
        let pidFile = try server.clusterDirectory.appendingPathComponent("postmaster.pid")
        let pid = try #require(Int32(try String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n")[0]))
        kill(pid, SIGKILL)
        try await eventually("the killed postmaster is gone", within: .seconds(5), poll: .milliseconds(50)) { kill(pid, 0) != 0 }
        try await Task.sleep(for: .milliseconds(500))  // its backends notice the postmaster's death and exit
        #expect(FileManager.default.fileExists(atPath: pidFile.path))
        let stats = try await liandong("stats", "--json")
        #expect(stats.status == 0, "\(stats.stderr)")
        #expect(try !server.isRunning(), "the command stops the server it started")
    }

    /// Processes whose command line names `directory` (initdb, its bootstrap backend, the server).
    func processes(under directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let command = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return command.contains(directory.path + "/postgres") ? command : nil
        }
    }

    /// A signal in the middle of initdb waits for the cluster to be ready and then stops it: nothing
    /// of it outlives the command. (Before, initdb and its bootstrap backend ran on, orphaned.) A
    /// one-shot command says it was stopped (128+N); serve and demo stop gracefully (0).
    @Test(arguments: [(["stats"], Int32(128 + SIGTERM)), (["demo", "--duration", "120", "--listen", "127.0.0.1:0"], Int32(0))] as [([String], Int32)])
    func signalDuringInitdbLeavesNoProcessBehind(command: [String], status: Int32) async throws {
        defer { try? cleanUp() }
        let (pid, demo, _) = try cli.start(command + ["--data-dir", dataDirectory.path])
        let cluster = try server.clusterDirectory
        try await eventually("demo starts initdb", within: .seconds(30), poll: .milliseconds(5)) {
            FileManager.default.fileExists(atPath: cluster.path)
        }
        kill(pid, SIGTERM)
        let output = try await demo.value
        #expect(output.status == status && !output.killedBySignal, "\(output.stderr)")
        let left = try processes(under: dataDirectory)
        #expect(left.isEmpty, "\(left)")
    }

    /// SIGTERM (or Ctrl-C) while the demo runs stops the embedded server it started.
    @Test func interruptedDemoStopsItsServer() async throws {
        defer { try? cleanUp() }
        let (pid, demo, _) = try cli.start(["demo", "--duration", "120", "--listen", "127.0.0.1:0", "--data-dir", dataDirectory.path])
        try await eventually("the demo's server runs", within: .seconds(30)) { try server.isRunning() }
        // At once: the server may still be starting, the hardest moment to stop it.
        kill(pid, SIGTERM)
        let output = try await demo.value
        #expect(output.status == 0 && !output.killedBySignal, "a graceful stop: \(output.stderr)")
        #expect(try !server.isRunning())
    }
}
