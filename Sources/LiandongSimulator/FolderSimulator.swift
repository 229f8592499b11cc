import Foundation
import Hummingbird
import LiandongAdapterKit
import LiandongMapping
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A simulated agency made from its folder, no Swift written: the records of its sample pages
/// (`samples/<stream>*.<ext>`) served the way its `adapter.yaml` says the agency pages them, each
/// page cut from the first sample as a template, with the built-in simulators' fault injection
/// (`POST /_faults?kind=…`) and, if the agency takes deliveries, a receiving endpoint that honours
/// idempotency keys. `liandong simulate <system>` runs one; `demo` and `adapter check` run against it.
/// A feed whose entries link to their documents (`follow`) is served from its index page
/// (`samples/<stream>.index.<ext>`, its first entry the template of every entry) and its documents
/// (`samples/<stream>.<ext>`, `<stream>-2.<ext>`…), each at `/_documents/<stream>/<n>`.
public final class FolderSimulator: Sendable {
    /// Why a folder cannot be simulated.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// One record of a stream, with what it is ordered by.
    struct Record: Sendable {
        var node: DocumentNode
        var id: String
        var time: String
        var instant: Date
    }

    /// One stream as served: the page template, its records in update order, and where they go.
    struct Served: Sendable {
        var stream: SourceStream
        var template: DocumentNode
        /// The path of the records' parent in a page, and the records' own name.
        var parent: [String]
        var recordName: String
        var records: [Record]
        var format: DocumentParser.Format
        var encoding: TextDecoding.Charset
        /// The path of the records' source time, which the malformed-record fault spoils.
        var timePath: String
        /// For a feed whose entries link to their documents (`follow`): the documents, as the agency
        /// sent them, in the format its mapping reads; `records` are then the index's entries.
        var documents: [[UInt8]] = []
        var documentFormat: DocumentParser.Format
    }

    /// The folder it serves.
    public let definition: AdapterDefinition
    /// Faults for the pulled lists.
    public let faults = FaultQueue()
    /// Faults for the receiving endpoint only.
    public let inboxFaults = FaultQueue()
    let served: [Served]
    let port: Int
    /// Records released per second (each stream's, in update order); nil: all at once.
    let releasePerSecond: Double?
    private let started = Date()
    private let boundPort = Mutex<Int?>(nil)
    /// Receipts by idempotency key.
    private let receipts = Mutex<[String: String]>([:])
    /// The documents accepted, once per idempotency key, in the order they came.
    private let accepted = Mutex<[ReceivedDocument]>([])

    /// One delivery the simulated agency accepted.
    public struct ReceivedDocument: Sendable {
        public var idempotencyKey: String
        public var contentType: String
        public var text: String
    }

    /// What the simulated agency accepted, once per idempotency key.
    public var received: [ReceivedDocument] { accepted.withLock { $0 } }

    /// Reads the folder's samples through the mappings its streams name.
    public convenience init(definition: AdapterDefinition, catalog: MappingCatalog, port: Int = 0, releasePerSecond: Double? = nil) throws {
        // Everything that can fail is done before the object exists: a class initializer that throws
        // halfway crashes the 6.3 optimizer (its ownership verifier).
        self.init(definition: definition, served: try Self.streams(of: definition, catalog: catalog), port: port, releasePerSecond: releasePerSecond)
    }

    private init(definition: AdapterDefinition, served: [Served], port: Int, releasePerSecond: Double?) {
        self.definition = definition
        self.served = served
        self.port = port
        self.releasePerSecond = releasePerSecond
    }

    /// Every stream of `definition` as served.
    private static func streams(of definition: AdapterDefinition, catalog: MappingCatalog) throws -> [Served] {
        guard definition.transport == .http else {
            throw Problem("\(definition.system) is reached by \(definition.transport), not http: there is nothing to serve")
        }
        var served: [Served] = []
        for stream in definition.streams {
            served.append(try serving(stream, of: definition, catalog: catalog))
        }
        return served
    }

    /// `stream` as served: its mapping's record paths, and the records of its sample files.
    private static func serving(_ stream: SourceStream, of definition: AdapterDefinition, catalog: MappingCatalog) throws -> Served {
        let mapping = try catalog.mapping(named: stream.mapping)
        let document = mapping.spec.document
        let mine = definition.samples(of: stream)
        guard !mine.isEmpty else {
            throw Problem("no sample page for the stream '\(stream.name)': put one the agency sent in samples/\(stream.name).<ext>")
        }
        if let follow = definition.paging.follow {
            return try feed(stream, of: definition, documents: mine, follow: follow, mapping: mapping)
        }
        let segments = document.records.split(separator: ".").map(String.init)
        guard let recordName = segments.last, segments.allSatisfy({ !$0.contains("[") }) else {
            throw Problem("\(stream.mapping): the records path '\(document.records)' is not plain names the simulator can edit")
        }
        guard let idPath = mapping.spec.id.path, let timePath = mapping.spec.sourceTime.path else {
            throw Problem("\(stream.mapping): id and source_time need a path for the simulator to order records by")
        }
        var pages: [DocumentNode] = []
        var byVersion: [String: Record] = [:]
        for file in mine {
            let bytes = try [UInt8](Data(contentsOf: file))
            let decoded = try TextDecoding.decode(bytes, declared: nil, fallback: document.encoding)
            let page = try DocumentParser().parse(decoded.text, as: document.format)
            pages.append(page)
            for node in page.select(document.records) {
                let record = try Self.record(node, idPath: idPath, timePath: timePath, file: file)
                byVersion[record.id + "\u{1F}" + record.time] = record
            }
        }
        let records = byVersion.values.sorted { ($0.instant, $0.id) < ($1.instant, $1.id) }
        return Served(
            stream: stream, template: pages[0], parent: Array(segments.dropLast()), recordName: recordName, records: records,
            format: document.format, encoding: document.encoding, timePath: timePath, documentFormat: document.format)
    }

    /// A feed's index and documents: each document an entry made from the index's first, linking to it.
    private static func feed(
        _ stream: SourceStream, of definition: AdapterDefinition, documents: [URL], follow: String, mapping: Mapping
    ) throws -> Served {
        let samples = definition.folder.appendingPathComponent("samples")
        let files = (try? FileManager.default.contentsOfDirectory(at: samples, includingPropertiesForKeys: nil)) ?? []
        guard let index = files.first(where: { $0.deletingPathExtension().lastPathComponent == stream.name + ".index" }) else {
            throw Problem("the stream '\(stream.name)' links to its documents: put the feed's index page in samples/\(stream.name).index.<ext>")
        }
        guard [.token, .page].contains(definition.paging.style), let recordsPath = definition.paging.records,
            let timePath = mapping.spec.sourceTime.path
        else {
            throw Problem("the folder simulator serves a feed paged by token or page number, with records and a source time path")
        }
        let decoded = try TextDecoding.decode(try [UInt8](Data(contentsOf: index)), declared: nil, fallback: definition.encoding)
        let template = try DocumentParser().parse(decoded.text, as: definition.format)
        guard let entry = template.select(recordsPath).first else {
            throw Problem("\(index.lastPathComponent) has no entry at '\(recordsPath)' to make the others from")
        }
        let segments = recordsPath.split(separator: ".").map(String.init)
        let followPath = follow.split(separator: ".").map(String.init)
        let records = documents.indices.map { n in
            Record(node: setting(followPath, to: "/_documents/\(stream.name)/\(n)", in: entry), id: "\(n)", time: "", instant: .distantPast)
        }
        return Served(
            stream: stream, template: template, parent: Array(segments.dropLast()), recordName: segments.last!, records: records,
            format: definition.format, encoding: definition.encoding, timePath: timePath,
            documents: try documents.map { try [UInt8](Data(contentsOf: $0)) }, documentFormat: mapping.spec.document.format)
    }

    /// Document `n` of a feed; `spoiled`, with its source time made unreadable.
    func document(_ served: Served, _ n: Int, spoiled: Bool) -> [UInt8]? {
        guard served.documents.indices.contains(n) else { return nil }
        guard spoiled, let decoded = try? TextDecoding.decode(served.documents[n], declared: nil, fallback: .utf8),
            let tree = try? DocumentParser().parse(decoded.text, as: served.documentFormat)
        else { return served.documents[n] }
        let spoilt = Self.setting(["*"] + served.timePath.split(separator: ".").map(String.init), to: "not-a-time", in: tree)
        return Array(DocumentWriter().write(spoilt, as: served.documentFormat).utf8)
    }

    /// One sample record with what it is ordered by.
    private static func record(_ node: DocumentNode, idPath: String, timePath: String, file: URL) throws -> Record {
        let id = node.select(idPath).first?.text ?? ""
        let time = node.select(timePath).first?.text ?? ""
        guard let instant = SourceTime(time)?.date else {
            throw Problem("\(file.lastPathComponent): a record's '\(timePath)' is '\(time)', not a time the simulator can order by")
        }
        return Record(node: node, id: id, time: time, instant: instant)
    }

    /// `http://127.0.0.1:PORT` once `run()` has bound its port.
    public var baseURL: String? { boundPort.withLock { $0 }.map { "http://127.0.0.1:\($0)" } }

    /// How many of `count` records are released now.
    func released(of count: Int) -> Int {
        guard let rate = releasePerSecond else { return count }
        return min(count, 1 + Int(Date().timeIntervalSince(started) * rate))
    }

    /// The page `query` asks for from `served`, as the agency's document, and its `Link` header.
    func page(_ served: Served, query: [String: String], malformed: Bool = false) -> (document: DocumentNode, link: String?) {
        let paging = definition.paging
        var parts: [String: String] = [:]
        for (name, template) in paging.query where template.hasPrefix("{") && template.hasSuffix("}") {
            parts[String(template.dropFirst().dropLast())] = query[name]
        }
        let size = parts["page_size"].flatMap(Int.init) ?? paging.pageSize
        let visible = served.records.prefix(released(of: served.records.count))
        var start = 0
        switch paging.style {
        case .updateTime:
            if let time = parts["time"], let after = SourceTime(time)?.date {
                let id = parts["id"] ?? ""
                start = visible.firstIndex { ($0.instant, $0.id) > (after, id) } ?? visible.count
            }
        case .token: start = parts["token"].flatMap(Int.init) ?? 0
        case .page: start = ((parts["page"].flatMap(Int.init) ?? 1) - 1) * size
        case .link: start = ((query["page"].flatMap(Int.init) ?? 1) - 1) * size
        }
        start = min(max(start, 0), visible.count)
        var records = Array(visible[start...].prefix(size))
        let hasMore = start + records.count < visible.count
        if malformed, !records.isEmpty {
            if let follow = paging.follow {
                // A feed's record is its document: the first entry links to it spoiled.
                let path = follow.split(separator: ".").map(String.init)
                records[0].node = Self.setting(path, to: "/_documents/\(served.stream.name)/\(records[0].id)?spoiled=1", in: records[0].node)
            } else {
                records[0].node = Self.setting(served.timePath.split(separator: ".").map(String.init), to: "not-a-time", in: records[0].node)
            }
        }
        var document = Self.replacing(served.parent, named: served.recordName, with: records.map(\.node), in: served.template)
        let last = records.last
        var values: [(String, String)] = []
        switch paging.style {
        case .updateTime where !paging.nextFromLastRecord:
            values = [(paging.next["time"], last?.time ?? parts["time"] ?? ""), (paging.next["id"], last?.id ?? parts["id"] ?? "")]
                .compactMap { path, value in path.map { ($0, value) } }
        case .token: values = paging.next["token"].map { [($0, "\(start + records.count)")] } ?? []
        default: break
        }
        if case .flag(let path, let equals) = paging.more {
            values.append((path, hasMore ? equals : Self.opposite(of: equals)))
        }
        for (path, value) in values { document = Self.setting(path.split(separator: ".").map(String.init), to: value, in: document) }
        var link: String?
        if paging.style == .link, hasMore {
            let page = (query["page"].flatMap(Int.init) ?? 1) + 1
            let rest = query.filter { $0.key != "page" }.sorted { $0.key < $1.key }
            link = "<\(served.stream.path ?? "/")\(queryString([("page", "\(page)")] + rest.map { ($0.key, $0.value) }))>; rel=\"next\""
        }
        return (document, link)
    }

    static func opposite(of flag: String) -> String {
        switch flag {
        case "true": "false"
        case "1": "0"
        case "Y": "N"
        default: ""
        }
    }

    /// `node` with the text at `path` (names, `*`, `@attribute`) set to `text`, the nodes on the way made if missing.
    static func setting(_ path: [String], to text: String, in node: DocumentNode) -> DocumentNode {
        var node = node
        guard let head = path.first else {
            node.text = text
            return node
        }
        if let index = node.children.firstIndex(where: { head == "*" || $0.name == head }) {
            node.children[index] = setting(Array(path.dropFirst()), to: text, in: node.children[index])
        } else if head != "*" {
            node.children.append(setting(Array(path.dropFirst()), to: text, in: DocumentNode(name: head)))
        }
        return node
    }

    /// `node` with the children named `name` under `parent` replaced by `records`.
    static func replacing(_ parent: [String], named name: String, with records: [DocumentNode], in node: DocumentNode) -> DocumentNode {
        var node = node
        guard let head = parent.first else {
            let at = node.children.firstIndex { $0.name == name } ?? node.children.count
            node.children.removeAll { $0.name == name }
            node.children.insert(contentsOf: records.map { DocumentNode(name: name, namespace: $0.namespace, text: $0.text, children: $0.children) }, at: min(at, node.children.count))
            return node
        }
        if let index = node.children.firstIndex(where: { head == "*" || $0.name == head }) {
            node.children[index] = replacing(Array(parent.dropFirst()), named: name, with: records, in: node.children[index])
        }
        return node
    }

    /// The page as bytes in the stream's format and charset (or, for the wrong-encoding fault, the other one).
    func encoded(_ document: DocumentNode, _ served: Served, wrongCharset: Bool = false) -> [UInt8] {
        let gb = (served.encoding == .gb18030) != wrongCharset
        let text = DocumentWriter(arrays: [served.recordName]).write(document, as: served.format, encoding: gb ? "GB18030" : "UTF-8")
        return gb ? Array(text.data(using: Render.gb18030) ?? Data()) : Array(text.utf8)
    }

    static func contentType(_ format: DocumentParser.Format, _ charset: TextDecoding.Charset) -> String {
        "\(format.mediaType); charset=\(charset == .gb18030 ? "GB18030" : "utf-8")"
    }

    /// Serves until cancelled or, in a service group, until it shuts down.
    public func run(logger: Logger) async throws {
        let router = Router()
        router.post("_faults") { request, _ -> Response in
            guard let kind = request.uri.queryParameters["kind"].flatMap({ Fault(rawValue: String($0)) }) else {
                return Response(status: .badRequest)
            }
            let queue = request.uri.queryParameters["endpoint"] == "inbox" ? self.inboxFaults : self.faults
            queue.inject(kind, count: request.uri.queryParameters["count"].flatMap { Int(String($0)) } ?? 1)
            return Response(status: .noContent)
        }
        for served in served {
            router.get(RouterPath(String((served.stream.path ?? "/").dropFirst()))) { request, _ in
                let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { $1 })
                let (document, link) = self.page(served, query: query)
                var response = try await self.faults.respond(
                    body: self.encoded(document, served), contentType: Self.contentType(served.format, served.encoding),
                    render: { self.encoded(self.page(served, query: query, malformed: $0).document, served) },
                    wrongEncoding: { self.encoded(document, served, wrongCharset: true) })
                if let link { response.headers[.init("Link")!] = link }
                return response
            }
        }
        router.get("_documents/:stream/:n") { request, context -> Response in
            guard let served = self.served.first(where: { $0.stream.name == context.parameters.get("stream") }),
                let body = self.document(
                    served, context.parameters.get("n").flatMap { Int($0) } ?? -1, spoiled: request.uri.queryParameters["spoiled"] != nil)
            else { return Response(status: .notFound) }
            return Response(
                status: .ok, headers: [.contentType: Self.contentType(served.documentFormat, .utf8)],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        if let receives = definition.receives {
            router.post(RouterPath(String(receives.path.dropFirst()).replacingOccurrences(of: "{kind}", with: ":kind"))) { request, _ in
                try await self.receive(request, answer: receives)
            }
        }
        var quiet = logger
        quiet.logLevel = .critical
        let app = Application(
            router: router, server: .http1(configuration: .init(idleTimeout: .seconds(5))),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: definition.system.rawValue),
            onServerRunning: { channel in self.boundPort.withLock { $0 = channel.localAddress?.port } }, logger: quiet)
        try await app.run()
    }

    /// Accepts a delivery once per idempotency key, answering the receipt where the agency's answer has it.
    private func receive(_ request: Request, answer: AdapterDefinition.Receiving) async throws -> Response {
        if inboxFaults.next() == .serverError { return Response(status: .serviceUnavailable) }
        let body = try await request.body.collect(upTo: 16 << 20)
        func reply(_ status: HTTPResponse.Status, _ path: String, _ text: String) -> Response {
            let document = Self.setting(path.split(separator: ".").map(String.init), to: text, in: DocumentNode(name: ""))
            let bytes = Array(DocumentWriter().write(document, as: answer.answer).utf8)
            return Response(
                status: status, headers: [.contentType: Self.contentType(answer.answer, .utf8)], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        guard let key = request.headers[.init("Idempotency-Key")!], !key.isEmpty else {
            return reply(.badRequest, answer.reason, "the Idempotency-Key header is required")
        }
        let contentType = request.headers[.contentType] ?? ""
        let format: DocumentParser.Format? = contentType.contains("xml") ? .xml : contentType.contains("json") ? .json : nil
        let text = String(decoding: body.readableBytesView, as: UTF8.self)
        if let format, (try? DocumentParser().parse(text, as: format)) == nil {
            return reply(.unprocessableContent, answer.reason, "the document is not well-formed \(format)")
        }
        let receipt = receipts.withLock { receipts in
            if let earlier = receipts[key] { return earlier }
            let receipt = "SIM-\(receipts.count + 1)"
            receipts[key] = receipt
            accepted.withLock { $0.append(ReceivedDocument(idempotencyKey: key, contentType: contentType, text: text)) }
            return receipt
        }
        return reply(.ok, answer.receipt, receipt)
    }
}

extension FolderSimulator: Service {
    public func run() async throws {
        try await run(logger: Logger(label: "liandong.simulator"))
    }
}
