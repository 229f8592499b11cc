import Foundation
import LiandongMapping
import LiandongModel
import Logging

/// An agency reached over HTTP as its `adapter.yaml` declares: every stream a list at its path, paged
/// by `Paging`, read with the definition's format and charset; deliveries, if it takes them, POSTed to
/// its receiving endpoint with an `Idempotency-Key`.
public struct HTTPSource: SourceAdapter, TargetAdapter {
    public let definition: AdapterDefinition
    let transport: HTTPTransport
    let pageSize: Int
    let paging: Paging
    let logger: Logger

    /// - Parameters:
    ///   - transport: where the agency is and how requests are made; auth headers and signing are added here.
    ///   - credentials: the secrets `definition.auth` needs, by credential name (`token`).
    ///   - pageSize: records per page; nil: the definition's.
    ///   - overlap: the update-time overlap window; nil: the definition's.
    public init(
        definition: AdapterDefinition, transport configuration: HTTPTransport.Configuration, credentials: [String: String],
        pageSize: Int? = nil, overlap: TimeInterval? = nil, logger: Logger
    ) throws {
        var configuration = configuration
        let auth = definition.auth
        switch auth.scheme {
        case .none: break
        case .bearer: configuration.headers.append(("Authorization", "Bearer \(credentials["token"] ?? "")"))
        case .basic:
            let pair = Data("\(credentials["user"] ?? ""):\(credentials["password"] ?? "")".utf8).base64EncodedString()
            configuration.headers.append(("Authorization", "Basic \(pair)"))
        case .hmac:
            configuration.signer = RequestSigner(signing: auth.signing, appKey: credentials["app_key"] ?? "", secret: credentials["secret"] ?? "")
        }
        configuration.requestsPerSecond = configuration.requestsPerSecond ?? definition.requestsPerSecond
        self.definition = definition
        transport = try HTTPTransport(system: definition.system, configuration: configuration, logger: logger)
        self.pageSize = pageSize ?? definition.paging.pageSize
        self.logger = logger
        var paging = definition.paging
        paging.overlap = overlap ?? paging.overlap
        self.paging = paging
    }

    public var system: SourceSystemID { definition.system }
    public var streams: [SourceStream] { definition.streams }
    public var receiver: (any TargetAdapter)? { definition.receives == nil ? nil : self }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        let requested = paging.request(path: stream.path ?? "/", after: cursor, pageSize: pageSize)
        let payload = try await transport.get(requested)
        guard let page = PageReader.document(payload, format: definition.format, fallback: definition.encoding) else {
            if paging.follow != nil {
                throw AdapterError(.unreadable, system: system, "the index at \(HTTPTransport.redacted(requested)) is not readable \(definition.format)")
            }
            // Unreadable page: kept (it will be quarantined) and the cursor held, so nothing is skipped.
            return SourcePage(payloads: [payload], cursor: cursor, hasMore: false)
        }
        var (next, hasMore) = paging.next(after: cursor, page: page, requested: requested, link: payload.link, pageSize: pageSize)
        if paging.style == .link, hasMore {
            // The Link header names a URL; the cursor is its path below the base URL.
            guard let path = next.flatMap(transport.path(of:)) else {
                throw AdapterError(.unreadable, system: system, "the next page's link leads away from \(transport.configuration.baseURL)")
            }
            next = path
        }
        guard let follow = paging.follow, let records = paging.records else {
            return SourcePage(payloads: [payload], cursor: next, hasMore: hasMore)
        }
        var documents: [FetchedPayload] = []
        for entry in page.select(records) {
            guard let link = entry.select(follow).first?.text else { continue }
            guard let path = transport.path(of: link) else {
                logger.warning(
                    "Skipped a link to another host", metadata: ["liandong.source": "\(system)", "liandong.link": "\(HTTPTransport.redacted(link))"])
                continue
            }
            documents.append(try await transport.get(path))
        }
        return SourcePage(payloads: documents, cursor: next, hasMore: hasMore)
    }

    public func push(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        guard let receives = definition.receives else {
            throw AdapterError(.unsupported, system: system, "takes no deliveries (its adapter.yaml has no 'receives')")
        }
        return try await transport.deliver(
            message, to: receives.path.replacingOccurrences(of: "{kind}", with: message.kind.rawValue), answer: receives.answer,
            receiptPath: receives.receipt, reasonPath: receives.reason)
    }
}
