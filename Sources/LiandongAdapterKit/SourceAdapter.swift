import Foundation
import LiandongMapping
import LiandongModel

/// An agency system the hub pulls from. An adapter knows transport, auth and paging; what the
/// records mean lives in the mapping files its streams name.
///
/// ```swift
/// var cursor = try await hub.streams.cursor(source: adapter.system, stream: stream.name)
/// repeat {
///     let page = try await adapter.pull(stream, after: cursor)
///     // map page.payloads with stream.mapping, ingest, store page.cursor
///     cursor = page.cursor
/// } while page.hasMore
/// ```
public protocol SourceAdapter: Sendable {
    /// The system's name (`fire-119`).
    var system: SourceSystemID { get }
    /// The streams this adapter pulls.
    var streams: [SourceStream] { get }
    /// The same system as a receiver of deliveries; nil when it takes none.
    var receiver: (any TargetAdapter)? { get }
    /// Fetches the next page of a stream after `cursor` (nil: from the beginning).
    func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage
}

extension SourceAdapter {
    public var receiver: (any TargetAdapter)? { self as? any TargetAdapter }
}

/// One stream of records a source offers, and the mapping its documents go through.
public struct SourceStream: Sendable, Hashable {
    public var name: String
    /// The mapping's name below `Mappings/` (`fire-119/alarm`).
    public var mapping: String
    /// Where the stream is read: a URL path (`/jcj/api/jingdan`), a file pattern (`*.jsonl`) or a table.
    public var path: String?
    /// A table's own update-time and id columns (`{time: TM, id: STCD}`), over the folder's
    /// `paging.next`: the database transport only, where each table has its columns.
    public var next: [String: String]?

    public init(name: String, mapping: String, path: String? = nil, next: [String: String]? = nil) {
        self.name = name
        self.mapping = mapping
        self.path = path
        self.next = next
    }
}

/// What one pull returned.
public struct SourcePage: Sendable {
    /// Documents exactly as received.
    public var payloads: [FetchedPayload]
    /// The cursor to resume after these payloads.
    public var cursor: String?
    /// Whether more is waiting right away.
    public var hasMore: Bool

    public init(payloads: [FetchedPayload], cursor: String?, hasMore: Bool) {
        self.payloads = payloads
        self.cursor = cursor
        self.hasMore = hasMore
    }
}

/// One received document.
public struct FetchedPayload: Sendable {
    /// URL path, file name or message id.
    public var name: String
    public var contentType: String?
    /// The `charset` the transport declared.
    public var declaredEncoding: String?
    public var body: [UInt8]
    /// The HTTP `Link` header, for paging by it.
    public var link: String?

    public init(name: String, contentType: String?, body: [UInt8], link: String? = nil) {
        self.name = name
        self.contentType = contentType
        self.body = body
        self.link = link
        declaredEncoding = contentType.flatMap(Self.charset(in:))
    }

    /// The `charset` parameter of a content type.
    public static func charset(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "charset" { return pair[1].trimmingCharacters(in: ["\""]) }
        }
        return nil
    }
}

/// An adapter failure, in the PostgresNIO style: a `code` for what kind of failure it is (and so
/// whether trying again may help), the `system` and the hub's own words for where and what (`message`:
/// method, path without its query, status, the transport's error in a few words), and the
/// `underlying` error. `description` is safe for logs and the audit chain: what the agency answered is
/// in `answer`, never in `description`.
public struct AdapterError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var description: String
        /// No answer came: the connection failed, timed out or dropped. A retry may help.
        public static let unreachable = Code(description: "unreachable")
        /// The system answered that it cannot serve now (HTTP 5xx, 429). A retry may help.
        public static let unavailable = Code(description: "unavailable")
        /// An answer came that cannot be read (a body cut short, a feed that does not parse). A retry may help.
        public static let unreadable = Code(description: "unreadable")
        /// The system refused this request or document (HTTP 4xx, or an answer without its receipt).
        public static let refused = Code(description: "refused")
        /// The adapter was asked for what it does not have (a stream, deliveries).
        public static let unsupported = Code(description: "unsupported")
    }

    public var code: Code
    public var system: SourceSystemID
    public var message: String
    /// What the remote system answered, when it answered.
    public var answer: RemoteAnswer?
    /// The transport's own error, for `debugDescription`.
    public var underlying: (any Error)?

    public init(_ code: Code, system: SourceSystemID, _ message: String, answer: RemoteAnswer? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.system = system
        self.message = message
        self.answer = answer
        self.underlying = underlying
    }

    /// Whether a retry may succeed.
    public var isTransient: Bool { [.unreachable, .unavailable, .unreadable].contains(code) }

    public var description: String { "\(system): \(message)" }
    public var debugDescription: String {
        "AdapterError(\(code)) \(system): \(message)" + (underlying.map { " — underlying: \(String(reflecting: $0))" } ?? "")
    }
}
