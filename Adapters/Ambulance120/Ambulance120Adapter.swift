import Foundation
import LiandongAdapterKit
import LiandongMapping
import LiandongModel
import Logging

/// The 120 emergency centre's export: CSV rows over HTTP, oldest change first, asked for after an
/// update time and call number. CSV has no room for paging metadata, so the cursor is the last row's
/// `GXSJ|HJBH` and a full page means there may be more.
public struct Ambulance120Adapter: SourceAdapter {
    public static let system: SourceSystemID = "ambulance-120"
    public static let streams = [SourceStream(name: "calls", mapping: "ambulance-120/call")]
    let transport: HTTPTransport
    let pageSize: Int

    public init(transport configuration: HTTPTransport.Configuration, pageSize: Int = 100, logger: Logger) {
        transport = HTTPTransport(system: "ambulance-120", configuration: configuration, logger: logger)
        self.pageSize = pageSize
    }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        var query = [("limit", "\(pageSize)")]
        if let after = UpdateTimeCursor(cursor) { query += [("gxsj", after.time), ("hjbh", after.id)] }
        let payload = try await transport.get("/export/calls.csv" + queryString(query))
        guard let page = PageReader.document(payload, format: .csv) else {
            return SourcePage(payloads: [payload], cursor: cursor, hasMore: false)
        }
        let rows = page.select("row")
        let last = rows.last
        let next = UpdateTimeCursor.next(
            time: last?.select("GXSJ").first?.text, id: last?.select("HJBH").first?.text, previous: cursor)
        return SourcePage(payloads: [payload], cursor: next, hasMore: rows.count >= pageSize)
    }
}
