import Foundation
import LiandongAdapterKit
import LiandongMapping
import LiandongModel
import Logging

/// The 119 fire-rescue command platform: GBK XML over HTTP with pinyin-initial names, paged by
/// update time (`kssj` start time + `ksbh` start number; the answer's `XYKSSJ`/`XYKSBH` continue it):
/// alarms at `/jqxx/list`, warning acknowledgements at `/jqxx/yjqs`, replies to bureau instructions at `/jqxx/zlfk`.
public struct Fire119Adapter: SourceAdapter {
    public static let system: SourceSystemID = "fire-119"
    /// Alarms, the duty staff's acknowledgements (签收) of the warnings the hub delivered, and their
    /// replies (签收/反馈) to the bureau's instructions.
    public static let streams = [
        SourceStream(name: "alarms", mapping: "fire-119/alarm"),
        SourceStream(name: "acknowledgements", mapping: "fire-119/acknowledgement"),
        SourceStream(name: "instruction-replies", mapping: "fire-119/instruction-reply"),
    ]
    /// The list each stream reads, and its root element.
    static let lists = [
        "alarms": ("/jqxx/list", "JQLB"), "acknowledgements": ("/jqxx/yjqs", "QSLB"), "instruction-replies": ("/jqxx/zlfk", "ZLFKLB"),
    ]
    let transport: HTTPTransport
    let pageSize: Int

    public init(transport configuration: HTTPTransport.Configuration, pageSize: Int = 50, logger: Logger) {
        transport = HTTPTransport(system: "fire-119", configuration: configuration, logger: logger)
        self.pageSize = pageSize
    }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        var query = [("ts", "\(pageSize)")]
        if let after = UpdateTimeCursor(cursor) { query += [("kssj", after.time), ("ksbh", after.id)] }
        guard let (path, root) = Self.lists[stream.name] else {
            throw AdapterError(.unsupported, system: system, "no stream '\(stream.name)'")
        }
        let payload = try await transport.get(path + queryString(query))
        guard let page = PageReader.document(payload, format: .xml, fallback: .gb18030),
            let list = page.select(root).first
        else {
            return SourcePage(payloads: [payload], cursor: cursor, hasMore: false)
        }
        let next = UpdateTimeCursor.next(
            time: list.select("@XYKSSJ").first?.text, id: list.select("@XYKSBH").first?.text, previous: cursor)
        return SourcePage(payloads: [payload], cursor: next, hasMore: list.select("@SFYHY").first?.text == "1")
    }
}

/// Deliveries: POST `/jqxx/jieshou/<kind>` with an `Idempotency-Key`; the platform's GBK XML answers with `FHXX.JSBH` (接收编号).
extension Fire119Adapter: TargetAdapter {
    public func push(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        try await transport.deliver(message, to: "/jqxx/jieshou/\(message.kind.rawValue)", answer: .xml, receiptPath: "FHXX.JSBH", reasonPath: "FHXX.CWXX")
    }
}
