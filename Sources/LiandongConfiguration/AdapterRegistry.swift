import Ambulance120Adapter
import EmergencyBureauAdapter
import ExchangeAdapter
import Fire119Adapter
import Foundation
import Hotline12345Adapter
import LiandongAdapterKit
import LiandongModel
import Logging
import Police110Adapter
import WeatherAdapter

/// The agencies this build has adapters for, and how each is built from its configured settings:
/// the one place an adapter module registers.
public enum AdapterRegistry {
    /// One agency's adapter type and how to build it from its settings (`url` and the transport
    /// settings of the configuration) and the environment its secrets come from.
    private struct Entry: Sendable {
        let type: any SourceAdapter.Type
        let make: @Sendable (HubConfiguration.Source, HTTPTransport.Configuration, [String: String], Logger) throws -> any SourceAdapter
    }

    private static let entries: [Entry] = [
        Entry(type: Hotline12345Adapter.self) { settings, transport, environment, logger in
            let variable = settings.tokenEnvironmentVariable ?? "LIANDONG_HOTLINE_12345_TOKEN"
            guard let token = environment[variable], !token.isEmpty else {
                throw HubConfiguration.Error(
                    .missingSecret, file: "(environment)", key: variable, message: "the 12345 API token must be set in this environment variable")
            }
            return Hotline12345Adapter(transport: transport, token: token, pageSize: settings.pageSize ?? 100, logger: logger)
        },
        Entry(type: Fire119Adapter.self) { settings, transport, _, logger in
            Fire119Adapter(transport: transport, pageSize: settings.pageSize ?? 50, logger: logger)
        },
        Entry(type: WeatherAdapter.self) { _, transport, _, logger in WeatherAdapter(transport: transport, logger: logger) },
        Entry(type: Police110Adapter.self) { settings, transport, _, logger in
            Police110Adapter(transport: transport, pageSize: settings.pageSize ?? 100, logger: logger)
        },
        Entry(type: Ambulance120Adapter.self) { settings, transport, _, logger in
            Ambulance120Adapter(transport: transport, pageSize: settings.pageSize ?? 100, logger: logger)
        },
        // `url` is the drop folder (or one file), as a path or a file: URL.
        Entry(type: ExchangeFolderAdapter.self) { settings, _, _, _ in
            let location = settings.url.hasPrefix("file://") ? URL(string: settings.url) : URL(fileURLWithPath: settings.url)
            guard let location else {
                throw HubConfiguration.Error(
                    file: "(configuration)", key: "sources.exchange.url", message: "'\(settings.url)' is not a file:/// URL")
            }
            return ExchangeFolderAdapter(location: location, pageSize: settings.pageSize ?? 1000)
        },
        Entry(type: EmergencyBureauAdapter.self) { settings, transport, _, logger in
            EmergencyBureauAdapter(transport: transport, pageSize: settings.pageSize ?? 100, logger: logger)
        },
    ]

    /// The source names this build has adapters for.
    public static var systems: [String] { entries.map { $0.type.system.rawValue } }

    /// The adapter type of the source `name`: its system and streams, known without reaching it.
    public static func adapterType(_ name: String) throws -> any SourceAdapter.Type {
        try entry(name).type
    }

    /// The adapter for `name` with `settings`, reading secrets from `environment`.
    public static func make(
        _ name: String, settings: HubConfiguration.Source, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) throws -> any SourceAdapter {
        var transport = HTTPTransport.Configuration(baseURL: settings.url)
        transport.timeout = .milliseconds(Int64(settings.timeoutSeconds * 1000))
        transport.attempts = settings.attempts
        return try entry(name).make(settings, transport, environment, logger)
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

    private static func entry(_ name: String) throws -> Entry {
        guard let entry = entries.first(where: { $0.type.system.rawValue == name }) else {
            throw HubConfiguration.Error(
                .unknownSource, file: "(configuration)", key: "sources.\(name)",
                message: "unknown source; expected one of: \(systems.joined(separator: ", "))")
        }
        return entry
    }
}
