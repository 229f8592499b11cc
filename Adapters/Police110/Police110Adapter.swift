import Foundation
import LiandongAdapterKit
import LiandongMapping
import LiandongModel
import Logging

/// The 110 接处警 platform: JSON with Chinese keys, paged by update time (query `gxsjq` 更新时间起 +
/// `qsbh` 起始编号, `myts` 每页条数; the answer's `数据.下一页` continues it): tickets at
/// `/jcj/api/jingdan`, replies to bureau instructions (指令签收/反馈) at `/jcj/api/zhilingfankui`.
public struct Police110Adapter: SourceAdapter {
    public static let system: SourceSystemID = "police-110"
    public static let streams = [
        SourceStream(name: "tickets", mapping: "police-110/ticket"),
        SourceStream(name: "instruction-replies", mapping: "police-110/instruction-reply"),
    ]
    let transport: HTTPTransport
    let pageSize: Int

    public init(transport configuration: HTTPTransport.Configuration, pageSize: Int = 100, logger: Logger) {
        transport = HTTPTransport(system: "police-110", configuration: configuration, logger: logger)
        self.pageSize = pageSize
    }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        var query = [("myts", "\(pageSize)")]
        if let after = UpdateTimeCursor(cursor) { query += [("gxsjq", after.time), ("qsbh", after.id)] }
        let path = stream.name == "instruction-replies" ? "/jcj/api/zhilingfankui" : "/jcj/api/jingdan"
        let payload = try await transport.get(path + queryString(query))
        guard let page = PageReader.document(payload, format: .json), let data = page.select("数据").first else {
            return SourcePage(payloads: [payload], cursor: cursor, hasMore: false)
        }
        let continuation = data.select("下一页").first
        let next = UpdateTimeCursor.next(
            time: continuation?.select("更新时间起").first?.text, id: continuation?.select("起始编号").first?.text, previous: cursor)
        return SourcePage(payloads: [payload], cursor: next, hasMore: data.select("还有更多").first?.text == "true")
    }
}

/// Deliveries: POST `/jcj/api/jieshou/<kind>` with an `Idempotency-Key`; the platform's JSON answers with `数据.接收编号` (receiving number).
extension Police110Adapter: TargetAdapter {
    public func push(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        try await transport.deliver(message, to: "/jcj/api/jieshou/\(message.kind.rawValue)", answer: .json, receiptPath: "数据.接收编号", reasonPath: "消息")
    }
}
