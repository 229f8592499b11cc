import AsyncHTTPClient
import Foundation
import LiandongModel
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Requests to an agency over HTTP with a timeout. GETs are retried with exponential backoff and
/// jitter for transient failures (5xx, timeouts, dropped connections); a POST is tried once, since
/// the pusher owns retries of deliveries.
public struct HTTPTransport: Sendable {
    /// How requests are made and retried.
    public struct Configuration: Sendable {
        /// The agency's base URL (`http://10.1.2.3:8080`).
        public var baseURL: String
        /// Per-request timeout.
        public var timeout: Duration = .seconds(10)
        /// Attempts per request, the first included.
        public var attempts: Int = 4
        /// Delay before the first retry; doubles each time, with ±50 % jitter.
        public var initialBackoff: Duration = .milliseconds(200)
        /// Largest response accepted.
        public var maxBytes: Int = 32 << 20
        /// Headers sent with every request (auth).
        public var headers: [(String, String)] = []
        /// Signs each request (HMAC auth), adding its headers.
        public var signer: RequestSigner?
        /// Requests per second at most, across every user of this transport; nil: no limit.
        public var requestsPerSecond: Double?
        /// A CA bundle to trust and a client certificate, for an agency on a government intranet.
        public var tls: TLSFiles?

        public init(baseURL: String) { self.baseURL = baseURL }
    }

    public let system: SourceSystemID
    public let configuration: Configuration
    let client: HTTPClient
    let logger: Logger
    let pace: Pace?

    /// A transport over `client`; nil: the shared client, or one for the configuration's `tls`.
    public init(system: SourceSystemID, configuration: Configuration, client: HTTPClient? = nil, logger: Logger) throws {
        self.system = system
        self.configuration = configuration
        self.client = try client ?? configuration.tls.map(Self.client(for:)) ?? .shared
        self.logger = logger
        pace = configuration.requestsPerSecond.map { Pace(interval: .seconds(1 / $0)) }
    }

    /// Spaces requests at least `interval` apart: each takes the next free slot.
    final class Pace: Sendable {
        let interval: Duration
        private let nextSlot = Mutex(ContinuousClock.now)

        init(interval: Duration) { self.interval = interval }

        func wait() async throws {
            let slot = nextSlot.withLock { next in
                let slot = max(next, ContinuousClock.now)
                next = slot + interval
                return slot
            }
            try await Task.sleep(until: slot, clock: .continuous)
        }
    }

    /// GETs `path` (with query) and returns the body as received.
    public func get(_ path: String) async throws -> FetchedPayload {
        var delay = configuration.initialBackoff
        var attempt = 1
        while true {
            do {
                return try await once(path)
            } catch let error as AdapterError where error.isTransient && attempt < configuration.attempts {
                logger.warning(
                    "Request failed, retrying",
                    metadata: ["liandong.source": "\(system)", "liandong.attempt": "\(attempt)", "liandong.error": "\(error.message)"])
                let jitter = Double.random(in: 0.5...1.5)
                try await Task.sleep(for: delay * jitter)
                delay *= 2
                attempt += 1
            }
        }
    }

    /// POSTs `body` to `path` with an `Idempotency-Key` header, once. A 4xx answer is a rejection
    /// (not transient) with the receiver's body as its `answer`; 5xx, 429 and transport failures are
    /// transient.
    public func post(_ path: String, body: [UInt8], contentType: String, idempotencyKey: String) async throws -> FetchedPayload {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Idempotency-Key", value: idempotencyKey)
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await execute(request, path: path, body: body)
    }

    private func once(_ path: String) async throws -> FetchedPayload {
        try await execute(HTTPClientRequest(url: configuration.baseURL + path), path: path, body: [])
    }

    private func execute(_ request: HTTPClientRequest, path: String, body: [UInt8]) async throws -> FetchedPayload {
        var request = request
        let method = request.method.rawValue
        for (name, value) in configuration.headers { request.headers.add(name: name, value: value) }
        // Signed once its turn has come, so that a paced request's timestamp is not stale.
        try await pace?.wait()
        if let signer = configuration.signer {
            let signed = (URLComponents(string: configuration.baseURL)?.percentEncodedPath ?? "") + path
            for (name, value) in signer.headers(method: method, path: signed, body: body) { request.headers.add(name: name, value: value) }
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(configuration.timeout.nanoseconds)))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw AdapterError(.unreachable, system: system, "\(method) \(Self.redacted(path)) got no answer (\(error))", underlying: error)
        }
        let answer: ByteBuffer
        do {
            answer = try await response.body.collect(upTo: configuration.maxBytes)
        } catch {
            throw AdapterError(.unreadable, system: system, "the body of \(Self.redacted(path)) could not be read (\(error))", underlying: error)
        }
        guard (200..<300).contains(response.status.code) else {
            throw AdapterError(
                response.status.code >= 500 || response.status.code == 429 ? .unavailable : .refused, system: system,
                "\(method) \(Self.redacted(path)) answered HTTP \(response.status.code)",
                answer: answer.readableBytes == 0
                    ? nil : RemoteAnswer(body: answer.readableBytesView, contentType: response.headers.first(name: "content-type")))
        }
        return FetchedPayload(
            name: path, contentType: response.headers.first(name: "content-type"), body: Array(buffer: answer),
            link: response.headers.first(name: "link"))
    }

    /// The path (with its query) below the base URL that `link` names, a link an agency's answer
    /// gives (a `Link` header, a feed entry's `href`): absolute or from the host's root. Nil for a link
    /// to another host, or outside the base URL's path: the hub reads only the agency it was told of.
    public func path(of link: String) -> String? {
        guard let base = URLComponents(string: configuration.baseURL), let target = URLComponents(string: link) else { return nil }
        if target.host != nil, target.host != base.host || target.port != base.port || target.scheme != base.scheme { return nil }
        let prefix = base.percentEncodedPath.hasSuffix("/") ? String(base.percentEncodedPath.dropLast()) : base.percentEncodedPath
        guard target.percentEncodedPath.hasPrefix(prefix + "/") || prefix.isEmpty else { return nil }
        return String(target.percentEncodedPath.dropFirst(prefix.count)) + (target.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    /// The path without its query, for logs and errors.
    static func redacted(_ path: String) -> String { String(path.prefix { $0 != "?" }) }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
