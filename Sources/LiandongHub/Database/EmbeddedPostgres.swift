import Foundation
import Logging

/// The hub's own PostgreSQL cluster in `<data dir>/postgres`, used when no database URL is configured.
///
/// The server listens on a Unix socket only. PostgreSQL refuses to run as root, so when this process
/// is root the server runs as the `postgres` system user that Debian's package creates (through
/// `runuser`), and the cluster directory is owned by that user.
public struct EmbeddedPostgres: Sendable {
    /// The cluster's data directory (`<data dir>/postgres`).
    public var clusterDirectory: URL
    /// Where the socket lives: `<data dir>/run`, or a short directory under /tmp when that path
    /// would exceed the 107 bytes a Unix socket path may have.
    public var socketDirectory: URL
    /// Where `initdb` and `pg_ctl` are.
    public var binDirectory: URL
    /// The system user the server runs as when this process is root.
    public var serverUser: String?
    /// The database the hub uses.
    public var database: String = "liandong"
    /// The superuser role the cluster is created with.
    public var username: String = "liandong"
    public var port: Int = 5432
    private let logger: Logger

    /// Locates the server binaries (`LIANDONG_PG_BIN`, then PATH, then `/usr/lib/postgresql/*/bin`).
    public init(dataDirectory: URL, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger)
        throws(HubError)
    {
        self.logger = logger
        clusterDirectory = dataDirectory.appendingPathComponent("postgres").standardizedFileURL
        let preferred = dataDirectory.appendingPathComponent("run").standardizedFileURL
        if preferred.path.utf8.count + 20 > 107 {
            let digest = UInt64(bitPattern: Int64(preferred.path.hashValue)) % 1_000_000_007
            socketDirectory = URL(fileURLWithPath: "/tmp/liandong-\(digest)")
        } else {
            socketDirectory = preferred
        }
        guard let bin = Self.findBinaries(environment: environment) else {
            throw HubError(
                .serverBinariesMissing,
                "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin: install the 'postgresql' package (apt-get install -y postgresql), set LIANDONG_PG_BIN to their directory, or configure database.url / LIANDONG_DATABASE_URL"
            )
        }
        binDirectory = bin
        serverUser = getuid() == 0 ? "postgres" : nil
    }

    static func findBinaries(environment: [String: String]) -> URL? {
        let fm = FileManager.default
        func hasBinaries(_ dir: String) -> Bool {
            fm.isExecutableFile(atPath: dir + "/initdb") && fm.isExecutableFile(atPath: dir + "/pg_ctl")
        }
        if let dir = environment["LIANDONG_PG_BIN"] { return hasBinaries(dir) ? URL(fileURLWithPath: dir) : nil }
        for dir in (environment["PATH"] ?? "").split(separator: ":").map(String.init) where hasBinaries(dir) {
            // Debian links initdb into PATH; resolve to the real bin directory so pg_ctl finds postgres.
            let resolved = URL(fileURLWithPath: dir + "/initdb").resolvingSymlinksInPath().deletingLastPathComponent()
            return hasBinaries(resolved.path) ? resolved : URL(fileURLWithPath: dir)
        }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where hasBinaries("/usr/lib/postgresql/\(version)/bin") {
            return URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin")
        }
        return nil
    }

    /// Where clients connect.
    public var location: DatabaseLocation {
        DatabaseLocation(host: socketDirectory.path, port: port, username: username, database: database)
    }

    /// Whether a server is running on this cluster: the process `postmaster.pid` names is alive.
    ///
    /// Checked directly rather than with `pg_ctl status`, whose exit status a process that also runs
    /// children through Foundation's `Process` may have reaped before we read it.
    public func isRunning() -> Bool {
        let pidFile = clusterDirectory.appendingPathComponent("postmaster.pid")
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ pid_t($0.trimmingCharacters(in: .whitespaces)) }), pid > 0
        else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Initialises the cluster if needed and starts the server unless it runs already.
    /// - Returns: whether this call started it (and so should stop it).
    @discardableResult
    public func start() throws(HubError) -> Bool {
        let fm = FileManager.default
        try createOwnedDirectory(clusterDirectory.deletingLastPathComponent(), ownedByServer: false)
        try checkServerUserCanReach(clusterDirectory.deletingLastPathComponent())
        try createOwnedDirectory(socketDirectory, ownedByServer: true)
        if !fm.fileExists(atPath: clusterDirectory.appendingPathComponent("PG_VERSION").path) {
            try createOwnedDirectory(clusterDirectory, ownedByServer: true)
            logger.info("Initialising embedded PostgreSQL cluster", metadata: ["liandong.path": "\(clusterDirectory.path)"])
            let result = try run(
                "initdb",
                ["-D", clusterDirectory.path, "-U", username, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            guard result.status == 0 else {
                throw HubError(.embeddedServer, "initdb failed in \(clusterDirectory.path): \(result.output.suffix(600))")
            }
        }
        if isRunning() { return false }
        // A postmaster.pid left by a crash (no server answers for it) is stale: remove it.
        let pidFile = clusterDirectory.appendingPathComponent("postmaster.pid")
        if fm.fileExists(atPath: pidFile.path) {
            logger.warning("Removing stale postmaster.pid left by a crash", metadata: ["liandong.path": "\(pidFile.path)"])
            try? fm.removeItem(at: pidFile)
            try? fm.removeItem(at: socketDirectory.appendingPathComponent(".s.PGSQL.\(port).lock"))
        }
        // A migration takes a lock on every table and index it makes, all in one transaction; several
        // databases migrated at once (a test run makes one per test) outran the stock 64 per connection
        // ("out of shared memory"). 256 costs a few MB of shared memory.
        let options =
            "-c listen_addresses='' -k \(socketDirectory.path) -p \(port) -c unix_socket_permissions=0777 -c max_locks_per_transaction=256"
        let log = clusterDirectory.deletingLastPathComponent().appendingPathComponent("postgres.log")
        if !fm.fileExists(atPath: log.path) { _ = fm.createFile(atPath: log.path, contents: nil) }
        try chownToServer(log)
        let result = try run("pg_ctl", ["start", "-w", "-t", "60", "-D", clusterDirectory.path, "-l", log.path, "-o", options])
        guard result.status == 0 else {
            let tail = (try? String(contentsOf: log, encoding: .utf8)).map { String($0.suffix(800)) } ?? ""
            throw HubError(.embeddedServer, "pg_ctl start failed: \(result.output.suffix(400)) \(tail)")
        }
        logger.info("Embedded PostgreSQL started", metadata: ["liandong.socket": "\(socketDirectory.path)"])
        return true
    }

    /// Stops the server (fast shutdown: clients are disconnected, nothing is lost).
    ///
    /// It does not ask `isRunning()` first: a server still starting rewrites `postmaster.pid`, and
    /// `pg_ctl status` reading it half-written reports no server. So `pg_ctl stop` is sent while the
    /// pid file exists, and again for a few seconds while the server is not yet ready to take it.
    public func stop() {
        let pidFile = clusterDirectory.appendingPathComponent("postmaster.pid")
        for _ in 0..<40 {
            guard FileManager.default.fileExists(atPath: pidFile.path) else { return }
            guard let result = try? run("pg_ctl", ["stop", "-w", "-m", "fast", "-D", clusterDirectory.path]) else { return }
            if result.status == 0 {
                logger.info("Embedded PostgreSQL stopped")
                return
            }
            // A pid file whose process is gone was left by a crash: nothing to stop (LC_ALL=C: see `run`).
            if result.output.contains("No such process") || result.output.contains("no server running") { return }
            usleep(250_000)
        }
    }

    /// As root the server runs as `serverUser`, which must be able to pass through every folder down
    /// to the data directory (a clone under `/root`, mode 700, is not); otherwise initdb fails with a
    /// bare "permission denied". Judged from the folders' owner, group and mode bits.
    func checkServerUserCanReach(_ directory: URL) throws(HubError) {
        guard let serverUser, let entry = getpwnam(serverUser) else { return }
        let (uid, gid) = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        var path = ""
        for component in directory.standardizedFileURL.pathComponents {
            path = component == "/" ? "/" : (path == "/" ? "/" : path + "/") + component
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let bit: mode_t = info.st_uid == uid ? S_IXUSR : info.st_gid == gid ? S_IXGRP : S_IXOTH
            guard info.st_mode & bit != 0 else {
                throw HubError(
                    .embeddedServer,
                    "running as root, the embedded PostgreSQL runs as the '\(serverUser)' user, which cannot enter \(path): choose a --data-dir it can reach (under /var/lib or /tmp, say), allow it in (chmod o+x \(path)), or run liandong as an ordinary user"
                )
            }
        }
    }

    private func createOwnedDirectory(_ url: URL, ownedByServer: Bool) throws(HubError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw HubError(.embeddedServer, "cannot create \(url.path): \(error.localizedDescription)", underlying: error)
        }
        if ownedByServer {
            try chownToServer(url)
            _ = chmod(url.path, 0o700)
        }
    }

    private func chownToServer(_ url: URL) throws(HubError) {
        guard let serverUser else { return }
        guard let entry = getpwnam(serverUser) else {
            throw HubError(
                .embeddedServer,
                "running as root, the embedded server must run as the '\(serverUser)' system user, which does not exist: install the 'postgresql' package, which creates it"
            )
        }
        _ = chown(url.path, entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    struct CommandResult {
        var status: Int32
        var output: String
    }

    /// Marks every descriptor above stderr close-on-exec, so that the server `pg_ctl` forks inherits
    /// none of ours: a daemon holding a pipe or socket this process got from its parent (Foundation's
    /// `Process` passes one) keeps whoever waits on that parent waiting.
    private static func markInheritedDescriptorsCloseOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for descriptor in entries.compactMap(Int32.init) where descriptor > 2 {
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Runs a server binary, as the server user when this process is root, and waits for it.
    ///
    /// Spawned with `posix_spawn` and reaped with `waitpid` rather than Foundation's `Process`: the
    /// server that `pg_ctl start` forks inherits the socket `Process` watches for the child's exit,
    /// so `Process.waitUntilExit()` would never return. Output goes to a file, never a pipe, for
    /// the same reason.
    func run(_ tool: String, _ arguments: [String]) throws(HubError) -> CommandResult {
        let executable = binDirectory.appendingPathComponent(tool).path
        // `env -C /`: the server must not inherit our working directory, which the server user may
        // not be allowed to read (initdb refuses to start then).
        let argv = ["/usr/bin/env", "-C", "/"] + (serverUser.map { ["/usr/sbin/runuser", "-u", $0, "--"] } ?? []) + [executable]
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("liandong-\(tool)-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }

        Self.markInheritedDescriptorsCloseOnExec()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let cArguments = (argv + arguments).map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        // Messages in English whatever the host's locale: `stop()` reads pg_ctl's (the cluster is C anyway).
        let environment = ProcessInfo.processInfo.environment.merging(["LC_ALL": "C"]) { $1 }
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cEnvironment.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, cEnvironment)
        guard spawned == 0 else {
            throw HubError(.embeddedServer, "cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(pid, &status, 0) } while reaped == -1 && errno == EINTR
        // Reaped by someone else (ECHILD): the outcome is unknown, and unknown is not success.
        if reaped != pid { status = 0xff << 8 }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED/WEXITSTATUS are macros Swift cannot import: a normal exit has the low 7 bits clear.
        let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return CommandResult(status: exitStatus, output: output)
    }
}
