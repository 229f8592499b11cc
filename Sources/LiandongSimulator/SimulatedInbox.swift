import Foundation
import Hummingbird
import LiandongModel
import NIOCore
import Synchronization

#if canImport(FoundationXML)
import FoundationXML
#endif

/// What a simulated agency has received from the hub, kept the way the real system would: once per
/// idempotency key. A repeated key gets the first answer again and is not stored twice.
public final class SimulatedInbox: Sendable {
    /// One document the agency accepted.
    public struct Received: Sendable, Codable {
        public var kind: String
        public var idempotencyKey: String
        public var contentType: String
        /// The document as text, decoded by its declared charset.
        public var text: String
        /// The acceptance number the agency answered with.
        public var receipt: String
        public var at: Date
    }

    private struct State {
        var documents: [Received] = []
        var byKey: [String: Int] = [:]
        var repeats = 0
        var acknowledgements: [SimulatedVersion] = []
        var instructionReplies: [SimulatedVersion] = []
    }

    /// The duty post that acknowledges (签收) every red or orange warning 119 receives; other posts
    /// the hub calls never answer, so their call-outs stay open.
    public static let acknowledgingPost = "值班指挥长"

    private let state = Mutex(State())
    private let prefix: String
    /// Faults for the receiving endpoints only, so that a test can make deliveries fail while pulls work.
    public let faults = FaultQueue()

    private let agency: AgencySimulator.Agency

    init(agency: AgencySimulator.Agency) {
        prefix = String(agency.rawValue.split(separator: "-").last ?? "R")
        self.agency = agency
    }

    /// The acknowledgements of warnings made so far, as the agency lists them.
    var acknowledgements: SimulatedTimeline { SimulatedTimeline(versions: state.withLock { $0.acknowledgements }) }
    /// The replies to bureau instructions made so far, as the agency lists them.
    var instructionReplies: SimulatedTimeline { SimulatedTimeline(versions: state.withLock { $0.instructionReplies }) }

    /// The duty post that signs for bureau instructions at 119 and 110.
    public static let instructionPost = "值班领导"

    /// Every document accepted, in order of arrival.
    public var documents: [Received] { state.withLock { $0.documents } }
    /// How many deliveries came again with a key already accepted.
    public var repeatedDeliveries: Int { state.withLock { $0.repeats } }

    /// Accepts `body` under `key` and answers an acceptance number (the agency's own record number
    /// when `number` finds one in the document's text), or the earlier one for a key seen before;
    /// refuses a document with no key, not in its charset, or not well-formed.
    func accept(kind: String, key: String?, body: [UInt8], contentType: String, number: ((String) -> String?)? = nil)
        -> Result<String, Refusal>
    {
        guard let key, !key.isEmpty else { return .failure(Refusal("the Idempotency-Key header is required")) }
        if let earlier = state.withLock({ state -> String? in
            guard let index = state.byKey[key] else { return nil }
            state.repeats += 1
            return state.documents[index].receipt
        }) {
            return .success(earlier)
        }
        guard let text = Self.decode(body, contentType: contentType) else {
            return .failure(Refusal("the document is not in its declared charset"))
        }
        guard Self.isWellFormed(text, contentType: contentType) else { return .failure(Refusal("the document is not well-formed")) }
        return .success(
            state.withLock { state in
                if let index = state.byKey[key] { return state.documents[index].receipt }
                let receipt = number?(text) ?? "\(prefix)-R\(String(format: "%06d", state.documents.count + 1))"
                state.byKey[key] = state.documents.count
                if let reply = Self.reply(to: text, kind: kind, agency: agency, number: state.instructionReplies.count + 1) {
                    state.instructionReplies.append(reply)
                }
                if agency == .fire, kind == "warning", text.contains("红色") || text.contains("橙色"),
                    let warning = text.firstMatch(of: /<YJBH>([^<]+)<\/YJBH>/)?.output.1
                {
                    let now = LocalTime.text(Date())
                    let id = "QS\(String(format: "%06d", state.acknowledgements.count + 1))"
                    state.acknowledgements.append(
                        SimulatedVersion(
                            id: id, updated: Date(),
                            fields: [("QSBH", id), ("YJBH", String(warning)), ("QSR", Self.acknowledgingPost), ("QSSJ", now), ("GXSJ", now)]))
                }
                state.documents.append(
                    Received(kind: kind, idempotencyKey: key, contentType: contentType, text: text, receipt: receipt, at: Date()))
                return receipt
            })
    }

    /// How the agency answers a bureau instruction: 119 signs for it and reports back what it did
    /// at once; 110 only signs for it (its feedback stays due, so the instruction shows as waiting).
    static func reply(to text: String, kind: String, agency: AgencySimulator.Agency, number: Int) -> SimulatedVersion? {
        guard kind == "instruction" else { return nil }
        let now = LocalTime.text(Date())
        let id = "FK\(String(format: "%06d", number))"
        switch agency {
        case .fire:
            guard let instruction = text.firstMatch(of: /<ZLBH>([^<]+)<\/ZLBH>/)?.output.1 else { return nil }
            return SimulatedVersion(
                id: id, updated: Date(),
                fields: [
                    ("FKBH", id), ("ZLBH", String(instruction)), ("QSR", instructionPost), ("QSSJ", now),
                    ("FKNR", "已调派救援力量赶赴现场处置，人员搜救工作正在进行。"), ("FKSJ", now), ("GXSJ", now),
                ])
        case .police:
            guard let instruction = (try? FieldValue(jsonText: text))?.objectValue?["指令编号"]?.stringValue else { return nil }
            return SimulatedVersion(
                id: id, updated: Date(),
                fields: [("反馈编号", id), ("指令编号", instruction), ("签收人", instructionPost), ("签收时间", now), ("更新时间", now)])
        default:
            return nil
        }
    }

    /// Why a document was refused.
    struct Refusal: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    static func decode(_ body: [UInt8], contentType: String) -> String? {
        let gbk = contentType.lowercased().contains("gbk") || contentType.lowercased().contains("gb18030")
        return gbk ? String(data: Data(body), encoding: Render.gb18030) : String(validating: body, as: UTF8.self)
    }

    static func isWellFormed(_ text: String, contentType: String) -> Bool {
        if contentType.contains("json") { return (try? FieldValue(jsonText: text))?.objectValue != nil }
        // XMLParser reads the declaration's encoding; hand it UTF-8 without one.
        var body = text
        if body.hasPrefix("<?xml"), let end = body.range(of: "?>") { body.removeSubrange(body.startIndex..<end.upperBound) }
        let parser = XMLParser(data: Data(body.utf8))
        parser.shouldResolveExternalEntities = false
        return parser.parse()
    }
}

extension AgencySimulator {
    /// The agency's receiving endpoint, by the path its real system uses.
    var inboxPath: String {
        switch configuration.agency {
        case .hotline: return "api/v1/inbound/:kind"
        case .bureau: return "yjzh/api/jieshou/:kind"
        case .police: return "jcj/api/jieshou/:kind"
        case .fire: return "jqxx/jieshou/:kind"
        case .ambulance, .weather: return "inbox/:kind"
        }
    }

    /// Receives one delivery and answers as the agency does: 12345 and others in JSON, 110 with
    /// Chinese keys, 119 in GBK XML.
    func receive(_ request: Request, kind: String) async throws -> Response {
        switch inbox.faults.next() {
        case .serverError?: return Response(status: .serviceUnavailable)
        case .timeout?: try await Task.sleep(for: .seconds(35))
        case .slow?: try await Task.sleep(for: .seconds(2))
        case .malformedRecord?, .truncated?, .wrongEncoding?: return answer(.failure(.init("simulated refusal")))
        case nil: break
        }
        let body = try await request.body.collect(upTo: 4 << 20)
        let key: String? = request.headers[.init("Idempotency-Key")!]
        let number: ((String) -> String?)? = kind == "transfer" ? { self.transferredRecord($0) } : nil
        let result = inbox.accept(
            kind: kind, key: key, body: Array(buffer: body), contentType: request.headers[.contentType] ?? "", number: number)
        return answer(result)
    }

    /// 110 answers a transfer from 12345 with the ticket it opened for the work order (the one of
    /// its records that names the order in 转办工单编号), when it has one.
    private func transferredRecord(_ text: String) -> String? {
        guard configuration.agency == .police, let order = (try? FieldValue(jsonText: text))?.objectValue?["工单编号"]?.stringValue
        else { return nil }
        return timeline.versions.first { $0["转办工单编号"] == order }?.id
    }

    private func answer(_ result: Result<String, SimulatedInbox.Refusal>) -> Response {
        let status: HTTPResponse.Status
        let text: String
        let type: String
        switch (configuration.agency, result) {
        case (.fire, .success(let receipt)):
            (status, type, text) = (.ok, "application/xml; charset=GBK", "<?xml version=\"1.0\" encoding=\"GBK\"?><FHXX><ZT>0</ZT><JSBH>\(receipt)</JSBH></FHXX>")
        case (.fire, .failure(let refusal)):
            (status, type, text) = (.badRequest, "application/xml; charset=GBK", "<?xml version=\"1.0\" encoding=\"GBK\"?><FHXX><ZT>1</ZT><CWXX>\(refusal.reason)</CWXX></FHXX>")
        case (.police, .success(let receipt)):
            (status, type, text) = (.ok, "application/json; charset=utf-8", #"{"数据":{"接收编号":"\#(receipt)"},"消息":"成功","状态码":0}"#)
        case (.police, .failure(let refusal)):
            (status, type, text) = (.badRequest, "application/json; charset=utf-8", #"{"消息":"\#(refusal.reason)","状态码":400}"#)
        case (_, .success(let receipt)):
            (status, type, text) = (.ok, "application/json; charset=utf-8", #"{"code":0,"data":{"receiptNo":"\#(receipt)"},"message":"success"}"#)
        case (_, .failure(let refusal)):
            (status, type, text) = (.badRequest, "application/json; charset=utf-8", #"{"code":400,"message":"\#(refusal.reason)"}"#)
        }
        let bytes = type.contains("GBK") ? Array(text.data(using: Render.gb18030) ?? Data()) : Array(text.utf8)
        return Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Everything received, as JSON, for people watching a demo.
    func receivedListing() throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(inbox.documents)
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: Array(data))))
    }
}
