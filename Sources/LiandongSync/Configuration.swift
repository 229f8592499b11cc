import Foundation
import Ambulance120Adapter
import EmergencyBureauAdapter
import ExchangeAdapter
import Fire119Adapter
import Hotline12345Adapter
import Police110Adapter
import LiandongAdapterKit
import LiandongHub
import LiandongMapping
import LiandongModel
import Logging
import WeatherAdapter
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

    /// How to reach one agency system.
    public struct Source: Sendable {
        public var url: String
        /// Name of the environment variable holding the API token, for sources that need one.
        public var tokenEnvironmentVariable: String?
        public var pageSize: Int?
        public var timeoutSeconds: Double
        public var attempts: Int
        /// When `serve` syncs it (`every` or `cron`, with `jitter`); nil: every `sync.interval_seconds`.
        public var schedule: Schedule?

        public init(
            url: String, tokenEnvironmentVariable: String?, pageSize: Int?, timeoutSeconds: Double, attempts: Int,
            schedule: Schedule? = nil
        ) {
            self.url = url
            self.tokenEnvironmentVariable = tokenEnvironmentVariable
            self.pageSize = pageSize
            self.timeoutSeconds = timeoutSeconds
            self.attempts = attempts
            self.schedule = schedule
        }
    }

    /// The source names this build has adapters for.
    public static let knownSources = ["hotline-12345", "fire-119", "weather", "police-110", "ambulance-120", "exchange", "emergency-bureau"]

    /// A configuration error: the file, the key and the fix.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var file: String
        public var key: String
        public var message: String
        public var description: String { "\(file): key '\(key)': \(message)" }
    }

    /// The defaults: embedded database in `./.liandong`, `./Mappings`, no sources.
    public init(dataDirectory: URL? = nil) {
        self.dataDirectory = dataDirectory ?? URL(fileURLWithPath: ".liandong")
        mappingsDirectory = URL(fileURLWithPath: "Mappings")
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

    private mutating func load(_ file: URL, dataDirectoryFromFlag: Bool) throws {
        let path = file.path
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw Error(file: path, key: "", message: "cannot be read: \(error.localizedDescription)")
        }
        let root: Any?
        do {
            root = try Yams.load(yaml: text)
        } catch {
            throw Error(file: path, key: "", message: "is not valid YAML: \(error)")
        }
        guard let map = root as? [String: Any] else {
            if root == nil { return }
            throw Error(file: path, key: "", message: "the top level must be a map of keys")
        }
        let base = file.deletingLastPathComponent()
        try Self.allow(map, ["data_dir", "database", "mappings", "sync", "sources", "serve", "delivery"], file: path, prefix: "")
        if let dir = map["data_dir"], !dataDirectoryFromFlag {
            dataDirectory = Self.resolve(try Self.string(dir, file: path, key: "data_dir"), against: base)
        }
        if let mappings = map["mappings"] {
            mappingsDirectory = Self.resolve(try Self.string(mappings, file: path, key: "mappings"), against: base)
        }
        // A section whose keys are all commented out (`database:` alone) is YAML null: no settings.
        if let database = map["database"], !(database is NSNull) {
            guard let db = database as? [String: Any] else {
                throw Error(file: path, key: "database", message: "expected a map with 'url'")
            }
            try Self.allow(db, ["url"], file: path, prefix: "database.")
            if let url = db["url"] {
                let text = try Self.string(url, file: path, key: "database.url")
                do {
                    _ = try DatabaseLocation(url: text)
                } catch {
                    throw Error(file: path, key: "database.url", message: "\(error.message)")
                }
                databaseURL = text
            }
        }
        if let sync = map["sync"] {
            guard let s = sync as? [String: Any] else { throw Error(file: path, key: "sync", message: "expected a map") }
            try Self.allow(s, ["interval_seconds"], file: path, prefix: "sync.")
            if let interval = s["interval_seconds"] {
                syncInterval = try Self.number(interval, file: path, key: "sync.interval_seconds", range: 0.1...86_400)
            }
        }
        if let serveSection = map["serve"], !(serveSection is NSNull) {
            guard let settings = serveSection as? [String: Any] else { throw Error(file: path, key: "serve", message: "expected a map") }
            try Self.allow(settings, ["listen", "lease_seconds", "instance"], file: path, prefix: "serve.")
            if let listen = settings["listen"] {
                let text = try Self.string(listen, file: path, key: "serve.listen")
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
                    throw Error(file: path, key: "serve.listen", message: "expected host:port, like 127.0.0.1:9464")
                }
                serve.host = String(text[..<colon])
                serve.port = port
            }
            if let lease = settings["lease_seconds"] {
                serve.leaseSeconds = try Self.number(lease, file: path, key: "serve.lease_seconds", range: 2...3600)
            }
            if let instance = settings["instance"] { serve.instance = try Self.string(instance, file: path, key: "serve.instance") }
        }
        if let section = map["delivery"], !(section is NSNull) {
            guard let settings = section as? [String: Any] else { throw Error(file: path, key: "delivery", message: "expected a map") }
            try Self.allow(
                settings, ["max_attempts", "initial_backoff", "max_backoff", "circuit_failures", "circuit_open"], file: path,
                prefix: "delivery.")
            func seconds(_ key: String) throws -> Duration? {
                try settings[key].map { .milliseconds(Int64(try Self.duration($0, file: path, key: "delivery.\(key)") * 1000)) }
            }
            func count(_ key: String) throws -> Int? {
                try settings[key].map { Int(try Self.number($0, file: path, key: "delivery.\(key)", range: 1...1000)) }
            }
            delivery.maxAttempts = try count("max_attempts") ?? delivery.maxAttempts
            delivery.circuitFailures = try count("circuit_failures") ?? delivery.circuitFailures
            delivery.initialBackoff = try seconds("initial_backoff") ?? delivery.initialBackoff
            delivery.maxBackoff = try seconds("max_backoff") ?? delivery.maxBackoff
            delivery.circuitOpen = try seconds("circuit_open") ?? delivery.circuitOpen
        }
        if let sources = map["sources"] {
            guard let list = sources as? [String: Any] else {
                throw Error(file: path, key: "sources", message: "expected a map of source name to settings")
            }
            for (name, value) in list {
                let prefix = "sources.\(name)"
                guard Self.knownSources.contains(name) else {
                    throw Error(
                        file: path, key: prefix,
                        message: "unknown source; expected one of: \(Self.knownSources.joined(separator: ", "))")
                }
                guard let settings = value as? [String: Any] else {
                    throw Error(file: path, key: prefix, message: "expected a map with at least 'url'")
                }
                try Self.allow(
                    settings, ["url", "token_env", "page_size", "timeout_seconds", "attempts", "every", "cron", "jitter"], file: path,
                    prefix: prefix + ".")
                guard let url = settings["url"] else {
                    throw Error(file: path, key: prefix + ".url", message: "required: the agency's base URL, like http://10.0.0.5:8080")
                }
                let urlText = try Self.string(url, file: path, key: prefix + ".url")
                if name == "exchange" {
                    guard urlText.hasPrefix("/") || urlText.hasPrefix("file:///") else {
                        throw Error(file: path, key: prefix + ".url", message: "expected the drop folder as an absolute path or file:/// URL, got '\(urlText)'")
                    }
                } else if !(urlText.hasPrefix("http://") || urlText.hasPrefix("https://")) {
                    throw Error(file: path, key: prefix + ".url", message: "expected an http:// or https:// URL, got '\(urlText)'")
                }
                self.sources[name] = Source(
                    url: urlText,
                    tokenEnvironmentVariable: try settings["token_env"].map { try Self.string($0, file: path, key: prefix + ".token_env") },
                    pageSize: try settings["page_size"].map {
                        Int(try Self.number($0, file: path, key: prefix + ".page_size", range: 1...10_000))
                    },
                    timeoutSeconds: try settings["timeout_seconds"].map {
                        try Self.number($0, file: path, key: prefix + ".timeout_seconds", range: 0.1...600)
                    } ?? 10,
                    attempts: try settings["attempts"].map { Int(try Self.number($0, file: path, key: prefix + ".attempts", range: 1...20)) }
                        ?? 4,
                    schedule: try Self.schedule(settings, file: path, prefix: prefix))
            }
        }
    }

    private static func duration(_ value: Any, file: String, key: String) throws -> TimeInterval {
        let text = (value as? String) ?? "\(value)"
        guard let seconds = TimeInterval(durationText: text) else {
            throw Error(file: file, key: key, message: "expected a duration like 30s, 5m or 1h, got '\(text)'")
        }
        return seconds
    }

    private static func schedule(_ settings: [String: Any], file: String, prefix: String) throws -> Schedule? {
        let jitter = try settings["jitter"].map { try duration($0, file: file, key: prefix + ".jitter") } ?? 0
        switch (settings["every"], settings["cron"]) {
        case (nil, nil):
            guard settings["jitter"] == nil else {
                throw Error(file: file, key: prefix + ".jitter", message: "jitter needs 'every' or 'cron' beside it")
            }
            return nil
        case (let every?, nil):
            let interval = try duration(every, file: file, key: prefix + ".every")
            guard interval >= 0.1 else { throw Error(file: file, key: prefix + ".every", message: "must be at least 100ms") }
            return Schedule(.every(interval), jitter: jitter)
        case (nil, let cron?):
            do {
                return Schedule(.cron(try CronExpression(try string(cron, file: file, key: prefix + ".cron"))), jitter: jitter)
            } catch let error as CronExpression.CronError {
                throw Error(file: file, key: prefix + ".cron", message: "\(error.message), like \"*/5 * * * *\"")
            }
        case (_?, _?):
            throw Error(file: file, key: prefix + ".cron", message: "give either 'every' or 'cron', not both")
        }
    }

    private static func allow(_ map: [String: Any], _ keys: [String], file: String, prefix: String) throws {
        for key in map.keys.sorted() where !keys.contains(key) {
            throw Error(file: file, key: prefix + key, message: "unknown key; expected one of: \(keys.joined(separator: ", "))")
        }
    }

    private static func string(_ value: Any, file: String, key: String) throws -> String {
        guard let text = value as? String, !text.isEmpty else {
            throw Error(file: file, key: key, message: "expected a non-empty string")
        }
        return text
    }

    private static func number(_ value: Any, file: String, key: String, range: ClosedRange<Double>) throws
        -> Double
    {
        let number = (value as? Double) ?? (value as? Int).map(Double.init)
        guard let number, range.contains(number) else {
            throw Error(file: file, key: key, message: "expected a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    private static func resolve(_ path: String, against base: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path).standardizedFileURL
    }
}

/// Builds the adapter for a configured source.
public enum AdapterRegistry {
    /// The adapter for `name` with `settings`, reading secrets from `environment`.
    public static func make(
        _ name: String, settings: HubConfiguration.Source, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) throws -> any SourceAdapter {
        var transport = HTTPTransport.Configuration(baseURL: settings.url)
        transport.timeout = .milliseconds(Int64(settings.timeoutSeconds * 1000))
        transport.attempts = settings.attempts
        switch name {
        case "hotline-12345":
            let variable = settings.tokenEnvironmentVariable ?? "LIANDONG_HOTLINE_12345_TOKEN"
            guard let token = environment[variable], !token.isEmpty else {
                throw HubConfiguration.Error(
                    file: "(environment)", key: variable, message: "the 12345 API token must be set in this environment variable")
            }
            return Hotline12345Adapter(transport: transport, token: token, pageSize: settings.pageSize ?? 100, logger: logger)
        case "fire-119":
            return Fire119Adapter(transport: transport, pageSize: settings.pageSize ?? 50, logger: logger)
        case "police-110":
            return Police110Adapter(transport: transport, pageSize: settings.pageSize ?? 100, logger: logger)
        case "emergency-bureau":
            return EmergencyBureauAdapter(transport: transport, pageSize: settings.pageSize ?? 100, logger: logger)
        case "ambulance-120":
            return Ambulance120Adapter(transport: transport, pageSize: settings.pageSize ?? 100, logger: logger)
        case "weather":
            return WeatherAdapter(transport: transport, logger: logger)
        case "exchange":  // `url` is the drop folder (or one file), as a path or a file: URL
            let location = settings.url.hasPrefix("file://") ? URL(string: settings.url) : URL(fileURLWithPath: settings.url)
            guard let location else {
                throw HubConfiguration.Error(
                    file: "(configuration)", key: "sources.exchange.url", message: "'\(settings.url)' is not a file:/// URL")
            }
            return ExchangeFolderAdapter(location: location, pageSize: settings.pageSize ?? 1000)
        default:
            throw HubConfiguration.Error(
                file: "(configuration)", key: "sources.\(name)",
                message: "unknown source; expected one of: \(HubConfiguration.knownSources.joined(separator: ", "))")
        }
    }

    /// An adapter for an agency system at `baseURL` with default transport settings: what the demo
    /// and the tests use to reach a simulator.
    public static func make(
        _ name: String, baseURL: String, token: String?, pageSize: Int? = nil, timeoutSeconds: Double = 5,
        attempts: Int = 4, logger: Logger
    ) throws -> any SourceAdapter {
        let settings = HubConfiguration.Source(
            url: baseURL, tokenEnvironmentVariable: "LIANDONG_SOURCE_TOKEN", pageSize: pageSize,
            timeoutSeconds: timeoutSeconds, attempts: attempts)
        return try make(name, settings: settings, environment: ["LIANDONG_SOURCE_TOKEN": token ?? ""], logger: logger)
    }

    /// The receivers among `adapters`: those that take deliveries and that `sharing` has an agreement with.
    public static func targets(_ adapters: [any SourceAdapter], sharing: SharingPolicy) -> [any TargetAdapter] {
        adapters.compactMap { $0 as? any TargetAdapter }.filter { sharing.agreements[$0.system] != nil }
    }

    /// An adapter with no transport settings, for file ingest and `mapping test`.
    public static func offline(_ name: String, logger: Logger) throws -> any SourceAdapter {
        try make(name, baseURL: "http://127.0.0.1:9", token: "offline", timeoutSeconds: 1, attempts: 1, logger: logger)
    }
}
