import Foundation
import PostgresNIO

/// Where the hub's database is: a TCP server or a Unix socket directory, with credentials.
public struct DatabaseLocation: Sendable, Hashable {
    /// A host name, or the directory holding the server's Unix socket (an absolute path).
    public var host: String
    public var port: Int
    public var username: String
    /// Secret: never printed.
    public var password: String?
    public var database: String

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `postgres://user:password@host:port/db` or `postgresql://user@/db?host=/socket/dir`.
    public init(url: String) throws(HubError) {
        guard let components = URLComponents(string: url),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else {
            throw HubError(.invalidDatabaseURL, "a database URL looks like postgres://user:password@host:5432/database")
        }
        let queryHost = components.queryItems?.first(where: { $0.name == "host" })?.value
        guard let host = queryHost ?? components.host.flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw HubError(.invalidDatabaseURL, "the database URL names no host (or ?host=/socket/directory)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        self.init(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: database.isEmpty ? (components.user ?? "postgres") : database)
    }

    /// The same server, another database.
    public func with(database: String) -> DatabaseLocation {
        var copy = self
        copy.database = database
        return copy
    }

    /// A URL `psql` understands; the password is left out.
    public var url: String {
        if host.hasPrefix("/") {
            return "postgresql://\(username)@/\(database)?host=\(host)&port=\(port)"
        }
        return "postgresql://\(username)@\(host):\(port)/\(database)"
    }

    /// One connection to it, as an agency's database transport makes (no pool to run).
    public var connectionConfiguration: PostgresConnection.Configuration {
        if host.hasPrefix("/") {
            return .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        }
        return .init(host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }

    /// The PostgresNIO client configuration.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if host.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: .disable)
        }
        configuration.options.maximumConnections = 4
        // JIT compilation pays only for long analytic queries; the hub's statements are short, and a
        // planner estimate inflated by many time windows made PostgreSQL spend a quarter of a second
        // compiling one that then ran for a tenth of that.
        configuration.options.additionalStartupParameters = [("jit", "off")]
        return configuration
    }
}
