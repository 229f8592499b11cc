import Foundation
import Hummingbird
import HummingbirdBcrypt
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync
import Logging
import Mustache

/// The admin console and its JSON API: server-rendered pages (Mustache, in Chinese, times in
/// Asia/Shanghai, every asset served here) under `/`, the same data as JSON under `/api/v1/`, the
/// OpenAPI document at `/api/openapi.yaml`. Every route asks for a permission (deny by default), masks
/// personal data for users without `personal_data`, and audits every change with who and why.
///
/// ```swift
/// let console = try await Console(hub: hub, catalog: catalog, jobs: jobs, logger: logger)
/// let router = Router(context: ConsoleContext.self)
/// console.addRoutes(to: router)
/// ```
public struct Console: Sendable {
    /// How the console behaves; the defaults suit a loopback or intranet deployment.
    public struct Configuration: Sendable {
        /// A session unused for this long is refused and must log in again.
        public var idleTimeout: Duration = .seconds(30 * 60)
        /// Cookies are marked `Secure` (set when the console is served over TLS).
        public var secureCookies = false
        /// The most items a bulk replay, ignore or retry takes on; a filter covering more is refused
        /// with the count, to be narrowed.
        public var bulkCap = 1000
        /// Rows per list page.
        public var pageSize = 50
        /// Failed logins in a row before a user is locked out for a while.
        public var allowedFailedLogins = 5

        public init() {}
    }

    let hub: Hub
    let catalog: MappingCatalog
    let engine: SyncEngine
    let jobs: JobRunner
    let templates: MustacheLibrary
    let configuration: Configuration
    let logger: Logger

    /// A console over `hub`, replaying with `catalog`'s mappings, running bulk actions on `jobs`.
    public init(hub: Hub, catalog: MappingCatalog, jobs: JobRunner, configuration: Configuration = .init(), logger: Logger) async throws {
        self.hub = hub
        self.catalog = catalog
        self.engine = SyncEngine(hub: hub, catalog: catalog, logger: logger)
        self.jobs = jobs
        self.configuration = configuration
        self.logger = logger
        guard let folder = Bundle.module.path(forResource: "Templates", ofType: nil) else {
            throw ConsoleError(.internalServerError, "the console's Templates resource folder is missing from the build")
        }
        self.templates = try await MustacheLibrary(directory: folder)
    }

    /// The console's routes, the API's and the assets'.
    public func addRoutes(to router: Router<ConsoleContext>) {
        router.add(middleware: Authentication(console: self))
        addAssetRoutes(to: router)
        addSessionRoutes(to: router)
        addOverviewRoutes(to: router)
        addErrorRoutes(to: router)
        addIncidentRoutes(to: router)
        addDeliveryRoutes(to: router)
        addStreamRoutes(to: router)
        addAuditRoutes(to: router)
        addUserRoutes(to: router)
    }

    // MARK: - Passwords and tokens

    /// A bcrypt hash of `password` (cost 12).
    public static func hash(password: String) -> String { Bcrypt.hash(password, cost: 12) }

    /// A random secret of `bytes` bytes as URL-safe text (session cookies, CSRF, API tokens, passwords).
    public static func secret(bytes: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(raw).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    // MARK: - JSON

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// `value` as indented JSON, for people.
    static func prettyJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func jsonText(_ value: some Encodable) -> String {
        (try? jsonEncoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension Console {
    /// Asks that the user holds `permission` (for `agency`, or for every agency when nil); a refusal
    /// is logged and answered 403.
    func require(_ permission: Permission, for agency: String? = nil, _ context: ConsoleContext, _ what: String) throws {
        guard context.principal.may(permission, for: agency) else { throw denied(permission, agency, context, what) }
    }

    /// Asks that the user holds `permission` for at least one agency, and returns those it holds it
    /// for (nil: every agency).
    func requireAny(_ permission: Permission, _ context: ConsoleContext, _ what: String) throws -> Set<String>? {
        guard context.principal.mayAny(permission) else { throw denied(permission, nil, context, what) }
        return context.principal.agencies(for: permission)
    }

    /// The refusal of `what`, logged with the user, the permission and the agency.
    private func denied(_ permission: Permission, _ agency: String?, _ context: ConsoleContext, _ what: String) -> ConsoleError {
        logger.warning(
            "Denied",
            metadata: [
                "liandong.user": "\(context.principal.user)", "liandong.permission": "\(permission.rawValue)",
                "liandong.agency": "\(agency ?? "*")", "liandong.action": "\(what)",
            ])
        return ConsoleError.forbidden(what)
    }

    /// The acting user of a change: the signed-in user, for `reason` (which must be given).
    func actor(_ context: ConsoleContext, reason: String?) throws -> ActingUser {
        guard let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else {
            throw ConsoleError.badRequest("请填写原因（a reason is required）")
        }
        return ActingUser(context.principal.user, reason: String(reason.prefix(500)))
    }

    /// Runs a hub call, answering its errors as the console does.
    func hubCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as HubError {
            throw ConsoleError.from(error)
        } catch let error as MappingCatalog.LoadError {
            throw ConsoleError(.unprocessableContent, error.description)
        }
    }
}
