import Foundation
import LiandongAdapterKit
import LiandongMapping
import LiandongModel
import Logging

/// The 12345 government hotline: REST JSON, bearer-token auth, paged by update time
/// (`updatedAfter` + `afterId` as the tie-breaker).
public struct Hotline12345Adapter: SourceAdapter {
    public static let system: SourceSystemID = "hotline-12345"
    public static let streams = [SourceStream(name: "work-orders", mapping: "hotline-12345/work-order")]
    let transport: HTTPTransport
    let pageSize: Int

    /// - Parameters:
    ///   - transport: HTTP settings; the bearer token is added here.
    ///   - token: the API token (a secret: from the environment).
    ///   - pageSize: work orders per page.
    public init(transport configuration: HTTPTransport.Configuration, token: String, pageSize: Int = 100, logger: Logger) {
        var configuration = configuration
        configuration.headers.append(("Authorization", "Bearer \(token)"))
        transport = HTTPTransport(system: "hotline-12345", configuration: configuration, logger: logger)
        self.pageSize = pageSize
    }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        var query = [("pageSize", "\(pageSize)")]
        if let after = UpdateTimeCursor(cursor) { query += [("updatedAfter", after.time), ("afterId", after.id)] }
        let payload = try await transport.get("/api/v1/workorders" + queryString(query))
        guard let page = PageReader.document(payload, format: .json), let data = page.select("data").first else {
            return SourcePage(payloads: [payload], cursor: cursor, hasMore: false)
        }
        let continuation = data.select("next").first
        let next = UpdateTimeCursor.next(
            time: continuation?.select("updatedAfter").first?.text, id: continuation?.select("afterId").first?.text,
            previous: cursor)
        return SourcePage(payloads: [payload], cursor: next, hasMore: data.select("hasMore").first?.text == "true")
    }
}

/// Deliveries: POST `/api/v1/inbound/<kind>` with an `Idempotency-Key`; the platform's JSON answers with `data.receiptNo`.
extension Hotline12345Adapter: TargetAdapter {
    public func push(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        try await transport.deliver(message, to: "/api/v1/inbound/\(message.kind.rawValue)", answer: .json, receiptPath: "data.receiptNo", reasonPath: "message")
    }
}
