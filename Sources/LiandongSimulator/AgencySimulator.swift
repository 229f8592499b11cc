import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A fake agency system on loopback, speaking the agency's native format: the 12345 hotline's REST
/// JSON, 119's GBK XML, or a CAP 1.2 feed. Serves data generated from a seed, all at once or released
/// a few versions at a time (live mode), receives the hub's deliveries into its `inbox` (answering
/// acceptance numbers, honouring idempotency keys; `GET /_received` lists them), and injects faults
/// on request.
public final class AgencySimulator: Sendable {
    /// Which agency system this simulates.
    public enum Agency: String, Sendable, CaseIterable {
        case hotline = "hotline-12345"
        case fire = "fire-119"
        case weather = "weather"
        case police = "police-110"
        case ambulance = "ambulance-120"
        case bureau = "emergency-bureau"
    }

    /// How the simulator behaves.
    public struct Configuration: Sendable {
        public var agency: Agency
        /// Seed of the generated data.
        public var seed: UInt64 = 1
        /// Records to generate (each goes through several versions).
        public var records: Int = 50
        /// Versions released per second; nil releases everything at once (unless released by hand).
        public var releasePerSecond: Double?
        /// Versions are released only by `release(upTo:)`.
        public var releasesByHand = false
        /// Every `n`-th version is committed late: it becomes visible after the version that follows it,
        /// whose update time is later, as a transaction that began first but committed second does. A
        /// client that pages by update time without an overlap skips it. nil: in order.
        public var lateCommitEvery: Int?
        /// Bearer token the 12345 API demands.
        public var token: String = "sim-token"
        /// Loopback port; 0 picks a free one.
        public var port: Int = 0

        public init(agency: Agency, seed: UInt64 = 1, records: Int = 50, releasePerSecond: Double? = nil) {
            self.agency = agency
            self.seed = seed
            self.records = records
            self.releasePerSecond = releasePerSecond
        }
    }

    public let configuration: Configuration
    public let faults = FaultQueue()
    /// What the agency received from the hub, and faults for its receiving endpoint.
    public let inbox: SimulatedInbox
    /// The data the simulator serves (for the bureau, its emergency reports).
    public let timeline: SimulatedTimeline
    /// The bureau's instructions and resource registers; empty for the other agencies.
    public let instructions: SimulatedTimeline
    public let resources: SimulatedTimeline
    private let started = Date()
    private let boundPort = Mutex<Int?>(nil)
    private let releasedByHand = Mutex(0)
    private let requests = Mutex<Int>(0)

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        inbox = SimulatedInbox(agency: configuration.agency)
        let generated: SimulatedTimeline =
            switch configuration.agency {
            case .hotline: AgencyData.hotlineWorkOrders(seed: configuration.seed, count: configuration.records)
            case .fire: AgencyData.fireAlarms(seed: configuration.seed, count: configuration.records)
            case .weather: AgencyData.weatherWarnings(seed: configuration.seed, count: configuration.records)
            case .police: AgencyData.policeTickets(seed: configuration.seed, count: configuration.records)
            case .ambulance: AgencyData.ambulanceCalls(seed: configuration.seed, count: configuration.records)
            case .bureau: AgencyData.bureauIncidents(seed: configuration.seed, count: configuration.records)
            }
        timeline = configuration.lateCommitEvery.map { generated.committingLate(every: $0) } ?? generated
        let bureau = configuration.agency == .bureau
        instructions = bureau ? AgencyData.bureauInstructions(seed: configuration.seed, count: configuration.records) : .init(versions: [])
        resources = bureau ? AgencyData.bureauResources(seed: configuration.seed, count: configuration.records) : .init(versions: [])
    }

    /// The port once `run()` has bound it.
    public var port: Int? { boundPort.withLock { $0 } }
    /// `http://127.0.0.1:PORT` once bound.
    public var baseURL: String? { port.map { "http://127.0.0.1:\($0)" } }
    /// Requests answered so far.
    public var requestCount: Int { requests.withLock { $0 } }

    /// Releases the first `count` versions (with `releasesByHand`).
    public func release(upTo count: Int) {
        releasedByHand.withLock { $0 = min(count, timeline.versions.count) }
    }

    /// How many versions are released now.
    var released: Int {
        if configuration.releasesByHand { return releasedByHand.withLock { $0 } }
        guard let rate = configuration.releasePerSecond else { return timeline.versions.count }
        return min(timeline.versions.count, 3 + Int(Date().timeIntervalSince(started) * rate))
    }

    /// Serves until cancelled or, in a service group, until it shuts down.
    public func run(logger: Logger) async throws {
        let router = Router()
        router.post("_faults") { request, _ -> Response in
            guard let kind = request.uri.queryParameters["kind"].flatMap({ Fault(rawValue: String($0)) }) else {
                return Response(status: .badRequest)
            }
            // `?endpoint=inbox` aims the faults at the receiving endpoint instead of the pulled lists.
            let queue = request.uri.queryParameters["endpoint"] == "inbox" ? self.inbox.faults : self.faults
            queue.inject(kind, count: request.uri.queryParameters["count"].flatMap { Int(String($0)) } ?? 1)
            return Response(status: .noContent)
        }
        router.post(RouterPath(inboxPath)) { request, context in
            try await self.receive(request, kind: context.parameters.get("kind") ?? "")
        }
        router.get("_received") { _, _ in try self.receivedListing() }
        switch configuration.agency {
        case .hotline:
            router.get("api/v1/workorders") { request, _ in try await self.hotline(request) }
        case .fire:
            router.get("jqxx/list") { request, _ in try await self.fire(request) }
            router.get("jqxx/yjqs") { request, _ in
                try await self.fireList(request, root: "QSLB", item: "QS", self.inbox.acknowledgements)
            }
            router.get("jqxx/zlfk") { request, _ in
                try await self.fireList(request, root: "ZLFKLB", item: "ZLFK", self.inbox.instructionReplies)
            }
        case .police:
            router.get("jcj/api/jingdan") { request, _ in try await self.police(request, self.timeline, released: self.released) }
            router.get("jcj/api/zhilingfankui") { request, _ in
                let replies = self.inbox.instructionReplies
                return try await self.police(request, replies, released: replies.versions.count, named: "指令反馈")
            }
        case .bureau:
            router.get("yjzh/api/sjxx") { request, _ in try await self.bureau(request, self.timeline, released: self.released) }
            router.get("yjzh/api/zlxx") { request, _ in
                try await self.bureau(request, self.instructions, released: self.instructions.versions.count)
            }
            router.get("yjzh/api/zyxx") { request, _ in
                try await self.bureau(request, self.resources, released: self.resources.versions.count)
            }
        case .ambulance:
            router.get("export/calls.csv") { request, _ in try await self.ambulance(request) }
        case .weather:
            router.get("cap/feed") { request, _ in try await self.weatherFeed(request) }
            router.get("cap/alerts/:file") { request, context in
                try await self.weatherAlert(String(context.parameters.get("file") ?? ""))
            }
        }
        var quiet = logger
        // A simulator is scenery: its own shutdown chatter (cancelled child channels) is not the hub's news.
        quiet.logLevel = .critical
        let app = Application(
            router: router,
            // Idle keep-alive connections are closed, so that a client's pooled connection cannot keep
            // the simulator from shutting down.
            server: .http1(configuration: .init(idleTimeout: .seconds(5))),
            configuration: .init(address: .hostname("127.0.0.1", port: configuration.port), serverName: configuration.agency.rawValue),
            onServerRunning: { channel in
                self.boundPort.withLock { $0 = channel.localAddress?.port }
            },
            logger: quiet)
        try await app.run()
    }

    /// Applies the next fault (if any) to a response body.
    private func respond(body: [UInt8], contentType: String, render: (_ malformed: Bool) -> [UInt8], wrongEncoding: () -> [UInt8])
        async throws -> Response
    {
        requests.withLock { $0 += 1 }
        return try await faults.respond(body: body, contentType: contentType, render: render, wrongEncoding: wrongEncoding)
    }

    /// The page a list request asks for in the agency's own query keys: at most `size` (else
    /// `defaultSize`) of the latest released versions after the cursor `time` + `id`, and whether more follow.
    private func page(
        _ request: Request, of list: SimulatedTimeline, released: Int, size: String, defaultSize: Int, time: String, id: String
    ) -> (items: [SimulatedVersion], hasMore: Bool) {
        let q = request.uri.queryParameters
        let pageSize = q[Substring(size)].flatMap { Int(String($0)) } ?? defaultSize
        let after = q[Substring(time)].flatMap { Self.localDate(String($0)) }.map { ($0, String(q[Substring(id)] ?? "")) }
        let items = list.latest(released: released, after: after)
        return (Array(items.prefix(pageSize)), items.count > pageSize)
    }

    /// Answers a UTF-8 text document `render` writes (malformed or not); the wrong-encoding fault sends
    /// the same text in GB18030.
    private func respondUTF8(contentType: String, _ render: (_ malformed: Bool) -> [UInt8]) async throws -> Response {
        try await respond(
            body: render(false), contentType: contentType, render: render,
            wrongEncoding: { Array(String(decoding: render(false), as: UTF8.self).data(using: Render.gb18030) ?? Data()) })
    }

    private func hotline(_ request: Request) async throws -> Response {
        guard request.headers[.authorization] == "Bearer \(configuration.token)" else {
            return Response(status: .unauthorized)
        }
        let (page, hasMore) = self.page(
            request, of: timeline, released: released, size: "pageSize", defaultSize: 100, time: "updatedAfter", id: "afterId")
        return try await respondUTF8(contentType: "application/json; charset=utf-8") {
            Render.hotlinePage(page, hasMore: hasMore, malformed: $0)
        }
    }

    private func fire(_ request: Request) async throws -> Response {
        let (page, hasMore) = self.page(request, of: timeline, released: released, size: "ts", defaultSize: 50, time: "kssj", id: "ksbh")
        func gbk(_ malformed: Bool) -> [UInt8] {
            Array(Render.firePage(page, hasMore: hasMore, malformed: malformed).data(using: Render.gb18030) ?? Data())
        }
        return try await respond(
            body: gbk(false), contentType: "application/xml", render: gbk,
            wrongEncoding: { Array(Render.firePage(page, hasMore: hasMore, malformed: false).utf8) })
    }

    /// A list 119 makes of what it received (acknowledgements of warnings, replies to instructions),
    /// paged like its alarms.
    private func fireList(_ request: Request, root: String, item: String, _ list: SimulatedTimeline) async throws -> Response {
        let (page, hasMore) = self.page(request, of: list, released: list.versions.count, size: "ts", defaultSize: 50, time: "kssj", id: "ksbh")
        let xml = Render.fireList(root: root, item: item, page, hasMore: hasMore)
        return try await respond(
            body: Array(xml.data(using: Render.gb18030) ?? Data()), contentType: "application/xml", render: { _ in Array(xml.data(using: Render.gb18030) ?? Data()) },
            wrongEncoding: { Array(xml.utf8) })
    }

    /// A 110 list in its JSON: the tickets, or (`list` 指令反馈) its replies to bureau instructions.
    private func police(_ request: Request, _ list: SimulatedTimeline, released: Int, named name: String = "警单") async throws -> Response {
        let (page, hasMore) = self.page(request, of: list, released: released, size: "myts", defaultSize: 100, time: "gxsjq", id: "qsbh")
        return try await respondUTF8(contentType: "application/json; charset=utf-8") {
            Render.policePage(page, list: name, hasMore: hasMore, malformed: $0)
        }
    }

    /// One of the bureau's lists (reports, instructions, resources) from `released` versions of `list`.
    private func bureau(_ request: Request, _ list: SimulatedTimeline, released: Int) async throws -> Response {
        let (page, hasMore) = self.page(request, of: list, released: released, size: "ts", defaultSize: 100, time: "gxsj", id: "bh")
        return try await respondUTF8(contentType: "application/json; charset=utf-8") {
            Render.bureauPage(page, hasMore: hasMore, malformed: $0)
        }
    }

    private func ambulance(_ request: Request) async throws -> Response {
        let (page, _) = self.page(request, of: timeline, released: released, size: "limit", defaultSize: 100, time: "gxsj", id: "hjbh")
        return try await respondUTF8(contentType: "text/csv; charset=utf-8") { Render.ambulanceCSV(page, malformed: $0) }
    }

    private func weatherFeed(_ request: Request) async throws -> Response {
        let after = request.uri.queryParameters["after"].flatMap { Int(String($0)) } ?? 0
        let visible = timeline.versions.prefix(released).enumerated().map { (seq: $0.offset + 1, id: $0.element.id) }
        let entries = Array(visible.filter { $0.seq > after }.prefix(50))
        return try await respond(
            body: Render.capFeed(entries, next: entries.last?.seq ?? after), contentType: "application/atom+xml",
            render: { _ in Render.capFeed(entries, next: entries.last?.seq ?? after) },
            wrongEncoding: { Render.capFeed(entries, next: entries.last?.seq ?? after) })
    }

    private func weatherAlert(_ file: String) async throws -> Response {
        guard file.hasSuffix(".xml"), let seq = Int(file.dropLast(4)), seq >= 1, seq <= released else {
            return Response(status: .notFound)
        }
        let version = timeline.versions[seq - 1]
        return try await respond(
            body: Render.cap(version, malformed: false), contentType: "application/cap+xml",
            render: { Render.cap(version, malformed: $0) },
            wrongEncoding: {
                Array(String(decoding: Render.cap(version, malformed: false), as: UTF8.self).data(using: Render.gb18030) ?? Data())
            })
    }

    /// Parses `yyyy-MM-dd HH:mm:ss` as Asia/Shanghai.
    static func localDate(_ text: String) -> Date? {
        let parts = text.split(whereSeparator: { "- :".contains($0) }).compactMap { Int($0) }
        guard parts.count == 6 else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (parts[0], parts[1], parts[2])
        (components.hour, components.minute, components.second) = (parts[3], parts[4], parts[5])
        components.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        return Calendar(identifier: .gregorian).date(from: components)
    }
}

extension AgencySimulator: Service {
    public func run() async throws {
        try await run(logger: Logger(label: "liandong.simulator"))
    }
}
