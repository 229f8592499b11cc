import Foundation
import LiandongAdapterKit
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync
import Yams

/// The hub's configuration: one YAML file (see `Deploy/liandong.example.yaml`, which documents every
/// key) plus environment variables for secrets and the database URL.
public struct HubConfiguration: Sendable {
    /// Where the embedded cluster and other local state live (`--data-dir`, `data_dir`; default `./.liandong`).
    public var dataDirectory: URL
    /// The database URL (`LIANDONG_DATABASE_URL`, then `database.url`); nil runs the embedded cluster.
    public var databaseURL: String?
    /// The `Mappings/` folder (`mappings`; default `./Mappings`).
    public var mappingsDirectory: URL
    /// The `Adapters/` folder of agency folders (`adapters`; default `./Adapters`).
    public var adaptersDirectory: URL
    /// The agency folders, once read (the configuration's sources are checked against them).
    private var adapters: AdapterCatalog?
    /// The file read, for errors found after loading; `(defaults)` when none.
    public var file = "(defaults)"
    /// Configured sources by name.
    public var sources: [String: Source]
    /// Seconds between syncs in `sync` without `--once` and in `demo`, and each stream's interval in
    /// `serve` when its source names no schedule.
    public var syncInterval: Double
    /// How `serve` runs.
    public var serve = Serve()
    /// How the pusher retries deliveries (`delivery:`).
    public var delivery = DeliveryPusher.Configuration()

    /// `serve` settings.
    public struct Serve: Sendable {
        /// Host and port of `/healthz`, `/readyz` and `/metrics`.
        public var host = "127.0.0.1"
        public var port = 9464
        /// How long a stream's lease lasts without renewal; a dead instance's streams are taken over
        /// within twice this.
        public var leaseSeconds: Double = 30
        /// This instance's name in leases (default: host name and process id).
        public var instance: String?
    }

    /// Where one agency system is, and how this deployment reaches it; what it is lies in its folder.
    public struct Source: Sendable {
        /// Its base URL, drop folder, or database URL, as its folder's transport expects.
        public var url: String
        /// The environment variables holding its credentials, by credential name (`token`), over the
        /// ones its `adapter.yaml` names (`token_env` is short for `credentials: {token: …}`).
        public var credentials: [String: String]
        /// Records per page; nil: its folder's.
        public var pageSize: Int?
        public var timeoutSeconds: Double
        public var attempts: Int
        /// The update-time overlap window; nil: its folder's.
        public var overlap: TimeInterval?
        /// Requests per second at most; nil: its folder's.
        public var requestsPerSecond: Double?
        /// The CA bundle to trust and the client certificate, for an agency on a government intranet.
        public var tls: TLSFiles?
        /// When `serve` syncs it (`every` or `cron`, with `jitter`); nil: every `sync.interval_seconds`.
        public var schedule: Schedule?

        public init(
            url: String, credentials: [String: String] = [:], pageSize: Int? = nil, timeoutSeconds: Double = 10, attempts: Int = 4,
            overlap: TimeInterval? = nil, requestsPerSecond: Double? = nil, tls: TLSFiles? = nil, schedule: Schedule? = nil
        ) {
            self.tls = tls
            self.url = url
            self.credentials = credentials
            self.pageSize = pageSize
            self.timeoutSeconds = timeoutSeconds
            self.attempts = attempts
            self.overlap = overlap
            self.requestsPerSecond = requestsPerSecond
            self.schedule = schedule
        }
    }

    /// A configuration error, in the PostgresNIO style: a `code`, and the file, the key and the fix as
    /// its context.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        /// What kind of failure this is.
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            public var description: String
            /// The file cannot be read, or is not YAML.
            public static let unreadable = Code(description: "unreadable")
            /// A key or value is wrong (unknown, out of range, of the wrong form).
            public static let invalid = Code(description: "invalid")
            /// A source this build has no adapter for.
            public static let unknownSource = Code(description: "unknownSource")
            /// A secret the configuration names is not set in the environment.
            public static let missingSecret = Code(description: "missingSecret")
        }

        public var code: Code
        public var file: String
        public var key: String
        public var message: String

        public init(_ code: Code = .invalid, file: String, key: String, message: String) {
            self.code = code
            self.file = file
            self.key = key
            self.message = message
        }

        public var description: String { "\(file): key '\(key)': \(message)" }
    }

    /// The defaults: embedded database in `./.liandong`, `./Mappings`, no sources.
    public init(dataDirectory: URL? = nil) {
        self.dataDirectory = dataDirectory ?? URL(fileURLWithPath: ".liandong")
        mappingsDirectory = URL(fileURLWithPath: "Mappings")
        adaptersDirectory = URL(fileURLWithPath: "Adapters")
        sources = [:]
        syncInterval = 5
        databaseURL = nil
    }

    /// Reads `file` (if given) over the defaults, then the environment. `dataDirectory` (from the
    /// `--data-dir` flag) wins over the file's `data_dir`.
    public init(file: URL?, dataDirectory: URL?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws
    {
        self.init(dataDirectory: dataDirectory)
        if let file {
            try load(file, dataDirectoryFromFlag: dataDirectory != nil)
        }
        if let url = environment["LIANDONG_DATABASE_URL"], !url.isEmpty { databaseURL = url }
    }

    /// The agency folders of `adaptersDirectory`, read once.
    public func adapterCatalog() throws -> AdapterCatalog {
        if let adapters { return adapters }
        return try AdapterCatalog(directory: adaptersDirectory)
    }

    private mutating func load(_ file: URL, dataDirectoryFromFlag: Bool) throws {
        let path = file.path
        self.file = path
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw Error(.unreadable, file: path, key: "", message: "cannot be read: \(error.localizedDescription)")
        }
        let written: ConfigurationFile
        do {
            // A file of comments only is the defaults.
            guard try Yams.compose(yaml: text) != nil else { return }
            written = try YAMLDecoder().decode(ConfigurationFile.self, from: text)
        } catch let error as DecodingError {
            throw Error(file: path, key: error.keyPath, message: error.reason)
        } catch {
            throw Error(.unreadable, file: path, key: "", message: "is not valid YAML: \(error)")
        }
        let check = Check(file: path)
        try check.nonEmpty(
            [
                ("data_dir", written.dataDirectory), ("mappings", written.mappings), ("adapters", written.adapters),
                ("database.url", written.database?.url),
                ("serve.listen", written.serve?.listen), ("serve.instance", written.serve?.instance),
            ] + (written.sources ?? [:]).sorted { $0.key < $1.key }.flatMap { name, source in
                [("sources.\(name).url", source.url), ("sources.\(name).token_env", source.tokenEnvironmentVariable)]
            })
        let base = file.deletingLastPathComponent()
        if let directory = written.dataDirectory, !dataDirectoryFromFlag {
            dataDirectory = Self.resolve(directory, against: base)
        }
        if let mappings = written.mappings { mappingsDirectory = Self.resolve(mappings, against: base) }
        if let folder = written.adapters { adaptersDirectory = Self.resolve(folder, against: base) }
        if let url = written.database?.url {
            do {
                _ = try DatabaseLocation(url: url)
            } catch {
                throw Error(file: path, key: "database.url", message: error.message)
            }
            databaseURL = url
        }
        if let interval = written.sync?.intervalSeconds {
            syncInterval = try check.number(interval, "sync.interval_seconds", 0.1...86_400)
        }
        if let settings = written.serve {
            if let listen = settings.listen {
                guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port)
                else {
                    throw Error(file: path, key: "serve.listen", message: "expected host:port, like 127.0.0.1:9464")
                }
                serve.host = String(listen[..<colon])
                serve.port = port
            }
            if let lease = settings.leaseSeconds { serve.leaseSeconds = try check.number(lease, "serve.lease_seconds", 2...3600) }
            serve.instance = settings.instance ?? serve.instance
        }
        if let settings = written.delivery {
            func count(_ value: Double?, _ key: String) throws -> Int? {
                try value.map { Int(try check.number($0, "delivery.\(key)", 1...1000)) }
            }
            func duration(_ value: String?, _ key: String) throws -> Duration? {
                try value.map { .milliseconds(Int64(try check.duration($0, "delivery.\(key)") * 1000)) }
            }
            delivery.maxAttempts = try count(settings.maxAttempts, "max_attempts") ?? delivery.maxAttempts
            delivery.circuitFailures = try count(settings.circuitFailures, "circuit_failures") ?? delivery.circuitFailures
            delivery.initialBackoff = try duration(settings.initialBackoff, "initial_backoff") ?? delivery.initialBackoff
            delivery.maxBackoff = try duration(settings.maxBackoff, "max_backoff") ?? delivery.maxBackoff
            delivery.circuitOpen = try duration(settings.circuitOpen, "circuit_open") ?? delivery.circuitOpen
        }
        guard let configured = written.sources, !configured.isEmpty else { return }
        let catalog: AdapterCatalog
        do {
            catalog = try AdapterCatalog(directory: adaptersDirectory)
        } catch {
            throw Error(.unreadable, file: path, key: "adapters", message: "\(error)")
        }
        adapters = catalog
        for (name, settings) in configured {
            sources[name] = try Self.source(name, settings, catalog: catalog, check: check, base: base)
        }
    }

    /// One source's settings, checked against its agency folder.
    private static func source(
        _ name: String, _ settings: ConfigurationFile.Source, catalog: AdapterCatalog, check: Check, base: URL
    ) throws -> Source {
        let prefix = "sources.\(name)"
        guard let definition = catalog.definitions.first(where: { $0.system.rawValue == name }) else {
            throw Error(
                .unknownSource, file: check.file, key: prefix,
                message: "no agency folder has this system; expected one of: \(catalog.systems.joined(separator: ", ")) "
                    + "(or add its folder: liandong adapter new \(name))")
        }
        guard let url = settings.url else {
            throw Error(file: check.file, key: prefix + ".url", message: "required: \(AdapterCatalog.urlForm(of: definition.transport))")
        }
        if let problem = AdapterCatalog.urlProblem(url, transport: definition.transport) {
            throw Error(file: check.file, key: prefix + ".url", message: problem)
        }
        var credentials = settings.credentials ?? [:]
        for (credential, variable) in credentials {
            guard definition.auth.required.contains(credential) else {
                throw Error(
                    file: check.file, key: prefix + ".credentials.\(credential)",
                    message: "\(name) takes \(definition.auth.required.isEmpty ? "no credentials" : "only " + definition.auth.required.joined(separator: ", "))")
            }
            try check.nonEmpty([(prefix + ".credentials.\(credential)", variable)])
        }
        credentials["token"] = settings.tokenEnvironmentVariable ?? credentials["token"]
        return Source(
            url: url, credentials: credentials,
            pageSize: try settings.pageSize.map { Int(try check.number($0, prefix + ".page_size", 1...10_000)) },
            timeoutSeconds: try settings.timeoutSeconds.map { try check.number($0, prefix + ".timeout_seconds", 0.1...600) } ?? 10,
            attempts: try settings.attempts.map { Int(try check.number($0, prefix + ".attempts", 1...20)) } ?? 4,
            overlap: try settings.overlap.map { try check.duration($0, prefix + ".overlap") },
            requestsPerSecond: try settings.requestsPerSecond.map { try check.number($0, prefix + ".requests_per_second", 0.01...10_000) },
            tls: try settings.tls.map { try tls($0, prefix: prefix + ".tls", transport: definition.transport, check: check, base: base) },
            schedule: try schedule(settings, prefix: prefix, check: check))
    }

    /// A source's TLS files: each one there, a certificate with its key, for an HTTP agency.
    private static func tls(
        _ written: ConfigurationFile.TLS, prefix: String, transport: AdapterDefinition.Transport, check: Check, base: URL
    ) throws -> TLSFiles {
        guard transport == .http else {
            throw Error(file: check.file, key: prefix, message: "TLS files are for agencies reached over https; this one is reached by \(transport)")
        }
        guard (written.certificateFile == nil) == (written.keyFile == nil) else {
            throw Error(file: check.file, key: prefix, message: "a client certificate needs its key: give certificate_file and key_file together")
        }
        var files = TLSFiles()
        for (key, path, set) in [
            ("ca_file", written.caFile, \TLSFiles.caFile), ("certificate_file", written.certificateFile, \.certificateFile),
            ("key_file", written.keyFile, \.keyFile),
        ] {
            guard let path else { continue }
            let resolved = resolve(path, against: base).path
            guard FileManager.default.isReadableFile(atPath: resolved) else {
                throw Error(file: check.file, key: "\(prefix).\(key)", message: "no readable file at \(resolved)")
            }
            files[keyPath: set] = resolved
        }
        return files
    }

    private static func schedule(_ settings: ConfigurationFile.Source, prefix: String, check: Check) throws -> Schedule? {
        let jitter = try settings.jitter.map { try check.duration($0, prefix + ".jitter") } ?? 0
        switch (settings.every, settings.cron) {
        case (nil, nil):
            guard settings.jitter == nil else {
                throw Error(file: check.file, key: prefix + ".jitter", message: "jitter needs 'every' or 'cron' beside it")
            }
            return nil
        case (let every?, nil):
            let interval = try check.duration(every, prefix + ".every")
            guard interval >= 0.1 else { throw Error(file: check.file, key: prefix + ".every", message: "must be at least 100ms") }
            return Schedule(.every(interval), jitter: jitter)
        case (nil, let cron?):
            return Schedule(.cron(try check.cron(cron, prefix + ".cron")), jitter: jitter)
        case (_?, _?):
            throw Error(file: check.file, key: prefix + ".cron", message: "give either 'every' or 'cron', not both")
        }
    }

    /// The checks of values the file's types cannot express, each failing with the file and key.
    private struct Check {
        let file: String

        func number(_ value: Double, _ key: String, _ range: ClosedRange<Double>) throws -> Double {
            guard range.contains(value) else {
                throw Error(file: file, key: key, message: "expected a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        /// Each of `values` that is given is not empty (`key: ""` would mean "the default" to nobody).
        func nonEmpty(_ values: [(key: String, value: String?)]) throws {
            for (key, value) in values where value?.trimmingCharacters(in: .whitespaces).isEmpty == true {
                throw Error(file: file, key: key, message: "expected a non-empty string; leave the key out for the default")
            }
        }

        func cron(_ text: String, _ key: String) throws -> CronExpression {
            do {
                return try CronExpression(text)
            } catch {
                throw Error(file: file, key: key, message: "\(error.message), like \"*/5 * * * *\"")
            }
        }

        func duration(_ text: String, _ key: String) throws -> TimeInterval {
            guard let seconds = TimeInterval(durationText: text) else {
                throw Error(file: file, key: key, message: "expected a duration like 30s, 5m or 1h, got '\(text)'")
            }
            return seconds
        }
    }

    private static func resolve(_ path: String, against base: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path).standardizedFileURL
    }
}
