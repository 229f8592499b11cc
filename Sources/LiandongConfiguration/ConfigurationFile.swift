import LiandongMapping

/// The configuration file as written, every key optional; `HubConfiguration` checks the values and
/// fills in the defaults. An unknown key anywhere is refused by name (`StrictKeys`).
struct ConfigurationFile: Decodable {
    var dataDirectory: String?
    var database: Database?
    var mappings: String?
    var adapters: String?
    var sync: Sync?
    var serve: Serve?
    var delivery: Delivery?
    var sources: [String: Source]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dataDirectory = "data_dir", database, mappings, adapters, sync, sources, serve, delivery
    }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory)
        database = try c.decodeIfPresent(Database.self, forKey: .database)
        mappings = try c.decodeIfPresent(String.self, forKey: .mappings)
        adapters = try c.decodeIfPresent(String.self, forKey: .adapters)
        sync = try c.decodeIfPresent(Sync.self, forKey: .sync)
        serve = try c.decodeIfPresent(Serve.self, forKey: .serve)
        delivery = try c.decodeIfPresent(Delivery.self, forKey: .delivery)
        sources = try c.decodeIfPresent([String: Source].self, forKey: .sources)
    }

    struct Database: Decodable {
        var url: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case url }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            url = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .url)
        }
    }

    struct Sync: Decodable {
        var intervalSeconds: Double?
        enum CodingKeys: String, CodingKey, CaseIterable { case intervalSeconds = "interval_seconds" }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            intervalSeconds = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Double.self, forKey: .intervalSeconds)
        }
    }

    struct Serve: Decodable {
        var listen: String?
        var leaseSeconds: Double?
        var instance: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case listen, leaseSeconds = "lease_seconds", instance }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            listen = try c.decodeIfPresent(String.self, forKey: .listen)
            leaseSeconds = try c.decodeIfPresent(Double.self, forKey: .leaseSeconds)
            instance = try c.decodeIfPresent(String.self, forKey: .instance)
        }
    }

    struct Delivery: Decodable {
        var maxAttempts: Double?
        var initialBackoff: String?
        var maxBackoff: String?
        var circuitFailures: Double?
        var circuitOpen: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxAttempts = "max_attempts", initialBackoff = "initial_backoff", maxBackoff = "max_backoff"
            case circuitFailures = "circuit_failures", circuitOpen = "circuit_open"
        }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            maxAttempts = try c.decodeIfPresent(Double.self, forKey: .maxAttempts)
            initialBackoff = try c.decodeIfPresent(String.self, forKey: .initialBackoff)
            maxBackoff = try c.decodeIfPresent(String.self, forKey: .maxBackoff)
            circuitFailures = try c.decodeIfPresent(Double.self, forKey: .circuitFailures)
            circuitOpen = try c.decodeIfPresent(String.self, forKey: .circuitOpen)
        }
    }

    /// `tls:` of a source: PEM files, relative to the configuration file.
    struct TLS: Decodable {
        var caFile: String?
        var certificateFile: String?
        var keyFile: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case caFile = "ca_file", certificateFile = "certificate_file", keyFile = "key_file" }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
            certificateFile = try c.decodeIfPresent(String.self, forKey: .certificateFile)
            keyFile = try c.decodeIfPresent(String.self, forKey: .keyFile)
        }
    }

    struct Source: Decodable {
        var url: String?
        var tokenEnvironmentVariable: String?
        var credentials: [String: String]?
        var pageSize: Double?
        var timeoutSeconds: Double?
        var attempts: Double?
        var overlap: String?
        var requestsPerSecond: Double?
        var tls: TLS?
        var every: String?
        var cron: String?
        var jitter: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case url, tokenEnvironmentVariable = "token_env", credentials, pageSize = "page_size", timeoutSeconds = "timeout_seconds", attempts
            case overlap, requestsPerSecond = "requests_per_second", tls, every, cron, jitter
        }
        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decodeIfPresent(String.self, forKey: .url)
            tokenEnvironmentVariable = try c.decodeIfPresent(String.self, forKey: .tokenEnvironmentVariable)
            credentials = try c.decodeIfPresent([String: String].self, forKey: .credentials)
            overlap = try c.decodeIfPresent(String.self, forKey: .overlap)
            requestsPerSecond = try c.decodeIfPresent(Double.self, forKey: .requestsPerSecond)
            tls = try c.decodeIfPresent(TLS.self, forKey: .tls)
            pageSize = try c.decodeIfPresent(Double.self, forKey: .pageSize)
            timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds)
            attempts = try c.decodeIfPresent(Double.self, forKey: .attempts)
            every = try c.decodeIfPresent(String.self, forKey: .every)
            cron = try c.decodeIfPresent(String.self, forKey: .cron)
            jitter = try c.decodeIfPresent(String.self, forKey: .jitter)
        }
    }
}
