import Foundation
import LiandongAdapterKit
import LiandongMapping
import LiandongModel
import Logging

/// The emergency bureau's command business system (应急指挥综合业务系统): REST JSON with pinyin-initial
/// keys, every list paged by update time (`gxsj` 更新时间 + `bh` 编号, `ts` 条数; the answer's
/// `data.nextTime`/`data.nextId` continue it): emergency reports at `/yjzh/api/sjxx`, instructions at
/// `/yjzh/api/zlxx`, the resource registers at `/yjzh/api/zyxx`.
public struct EmergencyBureauAdapter: SourceAdapter {
    public static let system: SourceSystemID = "emergency-bureau"
    public static let streams = [
        SourceStream(name: "incidents", mapping: "emergency-bureau/incident"),
        SourceStream(name: "instructions", mapping: "emergency-bureau/instruction"),
        SourceStream(name: "resources", mapping: "emergency-bureau/resource"),
    ]
    let transport: HTTPTransport
    let pageSize: Int

    public init(transport configuration: HTTPTransport.Configuration, pageSize: Int = 100, logger: Logger) {
        transport = HTTPTransport(system: "emergency-bureau", configuration: configuration, logger: logger)
        self.pageSize = pageSize
    }

    /// The list each stream reads.
    static let paths = ["incidents": "/yjzh/api/sjxx", "instructions": "/yjzh/api/zlxx", "resources": "/yjzh/api/zyxx"]

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        guard let path = Self.paths[stream.name] else {
            throw AdapterError(.unsupported, system: system, "no stream '\(stream.name)'")
        }
        var query = [("ts", "\(pageSize)")]
        if let after = UpdateTimeCursor(cursor) { query += [("gxsj", after.time), ("bh", after.id)] }
        let payload = try await transport.get(path + queryString(query))
        guard let page = PageReader.document(payload, format: .json), let data = page.select("data").first else {
            return SourcePage(payloads: [payload], cursor: cursor, hasMore: false)
        }
        let next = UpdateTimeCursor.next(
            time: data.select("nextTime").first?.text, id: data.select("nextId").first?.text, previous: cursor)
        return SourcePage(payloads: [payload], cursor: next, hasMore: data.select("hasMore").first?.text == "true")
    }
}

/// Deliveries: POST `/yjzh/api/jieshou/<kind>` with an `Idempotency-Key`; the system answers JSON with
/// `data.receiptNo` (接收编号).
extension EmergencyBureauAdapter: TargetAdapter {
    public func push(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        try await transport.deliver(message, to: "/yjzh/api/jieshou/\(message.kind.rawValue)", answer: .json, receiptPath: "data.receiptNo", reasonPath: "message")
    }
}
