import Foundation
import LiandongAdapterKit
import LiandongHub
import LiandongModel
import Logging

/// The agencies this hub knows: every folder of `Adapters/` with an `adapter.yaml`, found at start,
/// and how an adapter is built from a folder and the configuration's settings. A transport the
/// declarative form cannot express is a Swift module registered in `transports`, the one place it
/// registers.
public struct AdapterCatalog: Sendable {
    /// Builds the adapter of a folder whose `transport` names a Swift transport.
    public typealias MakeAdapter =
        @Sendable (AdapterDefinition, HubConfiguration.Source, _ credentials: [String: String], Logger) throws -> any SourceAdapter

    /// Transports written in Swift, by the name an `adapter.yaml` gives as its `transport`. Empty:
    /// every agency so far is declared with `http` or `folder`.
    public static let transports: [String: MakeAdapter] = [:]

    /// Every folder's definition, by system name.
    public let definitions: [AdapterDefinition]

    /// Reads every `adapter.yaml` one level below `directory`.
    public init(directory: URL) throws(AdapterDefinition.LoadError) {
        let folders: [URL]
        do {
            folders = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("adapter.yaml").path) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw AdapterDefinition.LoadError(
                file: directory.path, key: "",
                message: "no such folder: agencies are read from the project's Adapters/; run liandong from the project folder, "
                    + "or name the folder with 'adapters:' in the configuration file")
        }
        var definitions: [AdapterDefinition] = []
        for folder in folders {
            let definition = try AdapterDefinition(folder: folder)
            if let other = definitions.first(where: { $0.system == definition.system }) {
                throw AdapterDefinition.LoadError(
                    file: folder.appendingPathComponent("adapter.yaml").path, key: "system",
                    message: "'\(definition.system)' is the system of \(other.folder.lastPathComponent)/ already")
            }
            if case .custom(let name) = definition.transport, Self.transports[name] == nil {
                throw AdapterDefinition.LoadError(
                    file: folder.appendingPathComponent("adapter.yaml").path, key: "transport",
                    message: "unknown transport '\(name)'; expected http, folder, database"
                        + (Self.transports.isEmpty ? "" : " or one of: \(Self.transports.keys.sorted().joined(separator: ", "))"))
            }
            definitions.append(definition)
        }
        self.definitions = definitions
    }

    /// A catalog of these definitions only (one folder under check).
    public init(definitions: [AdapterDefinition]) { self.definitions = definitions }

    /// The system names of every folder.
    public var systems: [String] { definitions.map(\.system.rawValue) }

    /// The definition of the system `name`: its streams, known without reaching it.
    public func definition(_ name: String) throws -> AdapterDefinition {
        guard let definition = definitions.first(where: { $0.system.rawValue == name }) else {
            throw HubConfiguration.Error(
                .unknownSource, file: "(configuration)", key: "sources.\(name)",
                message: "no agency folder has this system; expected one of: \(systems.joined(separator: ", "))")
        }
        return definition
    }

    /// The adapter for `name` with `settings`, reading its credentials from `environment`.
    public func make(
        _ name: String, settings: HubConfiguration.Source, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) throws -> any SourceAdapter {
        let definition = try definition(name)
        var credentials: [String: String] = [:]
        for (credential, variable) in definition.auth.variables(overriddenBy: settings.credentials) {
            guard let value = environment[variable], !value.isEmpty else {
                throw HubConfiguration.Error(
                    .missingSecret, file: "(environment)", key: variable,
                    message: "\(name)'s \(credential) must be set in this environment variable")
            }
            credentials[credential] = value
        }
        switch definition.transport {
        case .http:
            var transport = HTTPTransport.Configuration(baseURL: settings.url)
            transport.timeout = .milliseconds(Int64(settings.timeoutSeconds * 1000))
            transport.attempts = settings.attempts
            transport.requestsPerSecond = settings.requestsPerSecond
            transport.tls = settings.tls
            do {
                return try HTTPSource(
                    definition: definition, transport: transport, credentials: credentials, pageSize: settings.pageSize,
                    overlap: settings.overlap, logger: logger)
            } catch {
                throw HubConfiguration.Error(
                    file: "(configuration)", key: "sources.\(name).tls", message: "the TLS files do not read as PEM certificates and key: \(error)")
            }
        case .folder:
            guard let location = settings.url.hasPrefix("file://") ? URL(string: settings.url) : URL(fileURLWithPath: settings.url) else {
                throw HubConfiguration.Error(file: "(configuration)", key: "sources.\(name).url", message: "'\(settings.url)' is not a file:/// URL")
            }
            return FolderSource(definition: definition, location: location, pageSize: settings.pageSize)
        case .database:
            let location: DatabaseLocation
            do {
                location = try DatabaseLocation(url: settings.url)
            } catch {
                throw HubConfiguration.Error(file: "(configuration)", key: "sources.\(name).url", message: error.message)
            }
            var connection = location.connectionConfiguration
            connection.username = credentials["user"] ?? connection.username
            connection.password = credentials["password"] ?? connection.password
            return DatabaseSource(
                definition: definition, connection: connection, pageSize: settings.pageSize, overlap: settings.overlap, logger: logger)
        case .custom(let transport):
            guard let make = Self.transports[transport] else {
                throw HubConfiguration.Error(
                    file: definition.folder.appendingPathComponent("adapter.yaml").path, key: "transport",
                    message: "unknown transport '\(transport)'; expected http, folder or database")
            }
            return try make(definition, settings, credentials, logger)
        }
    }

    /// An adapter for an agency system at `baseURL` with default transport settings: what the demo
    /// and the tests use to reach a simulator. `token` is every credential the folder asks for.
    public func make(
        _ name: String, baseURL: String, token: String?, pageSize: Int? = nil, timeoutSeconds: Double = 5,
        attempts: Int = 4, overlap: TimeInterval? = nil, logger: Logger
    ) throws -> any SourceAdapter {
        let required = try definition(name).auth.required
        let settings = HubConfiguration.Source(
            url: baseURL, credentials: Dictionary(uniqueKeysWithValues: required.map { ($0, "LIANDONG_SOURCE_\($0.uppercased())") }),
            pageSize: pageSize, timeoutSeconds: timeoutSeconds, attempts: attempts, overlap: overlap)
        let environment = Dictionary(uniqueKeysWithValues: required.map { ("LIANDONG_SOURCE_\($0.uppercased())", token ?? "") })
        return try make(name, settings: settings, environment: environment, logger: logger)
    }

    /// The receivers among `adapters`: those that take deliveries and that `sharing` has an agreement with.
    public static func targets(_ adapters: [any SourceAdapter], sharing: SharingPolicy) -> [any TargetAdapter] {
        adapters.compactMap(\.receiver).filter { sharing.agreements[$0.system] != nil }
    }

    /// What the configuration's `url` is for `transport`, in words.
    static func urlForm(of transport: AdapterDefinition.Transport) -> String {
        switch transport {
        case .http: "the agency's base URL, like http://10.0.0.5:8080"
        case .folder: "the drop folder, as an absolute path or file:/// URL"
        case .database: "the database, like postgresql://user@10.0.0.5:5432/exchange"
        case .custom(let name): "where the \(name) transport reaches the agency"
        }
    }

    /// Why `url` does not suit `transport`; nil when it does.
    static func urlProblem(_ url: String, transport: AdapterDefinition.Transport) -> String? {
        switch transport {
        case .http where !(url.hasPrefix("http://") || url.hasPrefix("https://")):
            "expected an http:// or https:// URL, got '\(url)'"
        case .folder where !(url.hasPrefix("/") || url.hasPrefix("file:///")):
            "expected the drop folder as an absolute path or file:/// URL, got '\(url)'"
        case .database where !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")):
            "expected a postgresql:// URL, got '\(url)'"
        default: nil
        }
    }
}
