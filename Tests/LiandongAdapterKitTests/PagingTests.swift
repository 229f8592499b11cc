import Foundation
import LiandongAdapterKit
import LiandongMapping
import LiandongTestKit
import Logging
import Testing

/// The declared paging rules, without an agency: what each request asks for and where the next
/// cursor comes from.
struct PagingTests {
    /// A definition written into a scratch folder.
    static func definition(_ yaml: String) throws -> AdapterDefinition {
        let folder = Scratch.path("agency")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try yaml.write(to: folder.appendingPathComponent("adapter.yaml"), atomically: true, encoding: .utf8)
        return try AdapterDefinition(folder: folder)
    }

    static func page(_ json: String) throws -> DocumentNode { try DocumentParser().parse(json, as: .json) }

    static let updateTime = """
        system: test-agency
        transport: http
        format: json
        streams: [{name: items, mapping: test/item, path: /items}]
        paging:
          query: {size: "{page_size}", after: "{time}", afterId: "{id}"}
          next: {time: next.time, id: next.id}
          more: {path: more, equals: "true"}
          overlap: 30s
        """

    @Test func anUpdateTimeCursorSettlesAndTheNextPassStartsOverlapEarlier() throws {
        let paging = try Self.definition(Self.updateTime).paging
        #expect(paging.request(path: "/items", after: nil, pageSize: 10) == "/items?size=10")
        let full = try Self.page(#"{"more": true, "next": {"time": "2026-12-03 10:00:05", "id": "A7"}}"#)
        let first = paging.next(after: nil, page: full, requested: "", link: nil, pageSize: 10)
        #expect(first.cursor == "2026-12-03 10:00:05|A7" && first.hasMore)
        #expect(paging.request(path: "/items", after: first.cursor, pageSize: 10) == "/items?after=2026-12-03%2010:00:05&afterId=A7&size=10")
        let last = try Self.page(#"{"more": false, "next": {"time": "2026-12-03 10:00:09", "id": "B2"}}"#)
        let settled = paging.next(after: first.cursor, page: last, requested: "", link: nil, pageSize: 10)
        #expect(settled.cursor == "2026-12-03 10:00:09|B2|settled" && !settled.hasMore)
        // The next pass asks from 30 s earlier, every id at that time included.
        #expect(paging.request(path: "/items", after: settled.cursor, pageSize: 10) == "/items?after=2026-12-03%2009:59:39&size=10")
        // An answer that names an earlier time (the overlap read again, or an echo) never moves it back.
        let echo = try Self.page(#"{"more": false, "next": {"time": "2026-12-03 09:59:39", "id": ""}}"#)
        #expect(paging.next(after: settled.cursor, page: echo, requested: "", link: nil, pageSize: 10).cursor == settled.cursor)
        // A page that names no continuation keeps the cursor.
        #expect(paging.next(after: settled.cursor, page: try Self.page("{}"), requested: "", link: nil, pageSize: 10).cursor == settled.cursor)
    }

    @Test func pageNumbersLinksAndTokens() throws {
        let numbered = try Self.definition(
            """
            system: numbered
            transport: http
            format: json
            streams: [{name: items, mapping: test/item, path: /items}]
            paging: {cursor: page, query: {p: "{page}"}, records: list, more: full-page, page_size: 2}
            """
        ).paging
        #expect(numbered.request(path: "/items", after: nil, pageSize: 2) == "/items?p=1")
        let full = numbered.next(after: nil, page: try Self.page(#"{"list": [1, 2]}"#), requested: "", link: nil, pageSize: 2)
        #expect(full.cursor == "2" && full.hasMore)
        // The last page is asked for again next time: rows added to it then are read.
        let short = numbered.next(after: "2", page: try Self.page(#"{"list": [3]}"#), requested: "", link: nil, pageSize: 2)
        #expect(short.cursor == "2" && !short.hasMore)

        let linked = try Self.definition(
            """
            system: linked
            transport: http
            format: json
            streams: [{name: items, mapping: test/item, path: /items}]
            paging: {cursor: link, query: {per_page: "{page_size}"}}
            """
        ).paging
        let header = #"<https://api.example.gov.cn/items?page=1>; rel="prev", <https://api.example.gov.cn/items?page=3&per_page=50>; rel="next""#
        let followed = linked.next(after: nil, page: try Self.page("[]"), requested: "/items?per_page=50", link: header, pageSize: 50)
        #expect(followed.cursor == "https://api.example.gov.cn/items?page=3&per_page=50" && followed.hasMore)
        // The source keeps the link's path below its base URL as the cursor, and asks for it next.
        #expect(linked.request(path: "/items", after: "/items?page=3&per_page=50", pageSize: 50) == "/items?page=3&per_page=50")
        let end = linked.next(after: "/items?page=3&per_page=50", page: try Self.page("[]"), requested: "/items?page=3&per_page=50", link: nil, pageSize: 50)
        #expect(end.cursor == "/items?page=3&per_page=50" && !end.hasMore)
    }

    /// Links an agency gives are read below its base URL, and only its own.
    @Test func linksAreReadBelowTheBaseURL() throws {
        let transport = try HTTPTransport(
            system: "gateway", configuration: .init(baseURL: "https://10.0.0.5:8443/gw/v1"), logger: Logger(label: "test"))
        #expect(transport.path(of: "https://10.0.0.5:8443/gw/v1/items?page=3") == "/items?page=3")
        #expect(transport.path(of: "/gw/v1/cap/1.xml") == "/cap/1.xml")
        #expect(transport.path(of: "https://cdn.example.com/gw/v1/cap/1.xml") == nil)
        #expect(transport.path(of: "/other/cap/1.xml") == nil)
    }

    /// A last page that was exactly full settles on the empty page after it; a window larger than a
    /// page is paged through, not skipped.
    @Test func theOverlapIsReadWhateverThePageSize() throws {
        let paging = try Self.definition(Self.updateTime).paging
        let empty = try Self.page(#"{"more": false}"#)
        #expect(paging.next(after: "2026-12-03 10:00:09|B2", page: empty, requested: "", link: nil, pageSize: 10).cursor == "2026-12-03 10:00:09|B2|settled")
        // Asked from 09:59:39 (30 s before 10:00:09), a full page ending at 09:59:50 moves on from there.
        let inWindow = try Self.page(#"{"more": true, "next": {"time": "2026-12-03 09:59:50", "id": "A1"}}"#)
        let paged = paging.next(after: "2026-12-03 10:00:09|B2|settled", page: inWindow, requested: "", link: nil, pageSize: 10)
        #expect(paged.cursor == "2026-12-03 09:59:50|A1" && paged.hasMore)
        // Ids may hold '|'; a time in other digits than ASCII is no time at all.
        #expect(UpdateTimeCursor("2026-12-03 10:00:09|A|B|settled") == UpdateTimeCursor(time: "2026-12-03 10:00:09", id: "A|B", settled: true))
        #expect(SourceTime("１７６４７２７２００") == nil)
    }

    @Test(arguments: [
        ("2026-12-03 10:00:00", "2026-12-03 09:59:50"),
        ("2026-12-03T10:00:00", "2026-12-03T09:59:50"),
        ("2026-12-03T10:00:00.250+08:00", "2026-12-03T09:59:50+08:00"),
        ("2026-12-03T02:00:00Z", "2026-12-03T01:59:50Z"),
        ("20261203100000", "20261203095950"),
        ("1764727200", "1764727190"),
        ("1764727200000", "1764727190000"),
    ])
    func sourceTimesMoveInTheirOwnForm(text: String, tenSecondsEarlier: String) throws {
        let time = try #require(SourceTime(text))
        #expect(time.adding(-10).text == tenSecondsEarlier)
    }

    @Test func sourceTimesReadAsShanghaiWithoutAZone() throws {
        #expect(SourceTime("2026-12-03 10:00:00")?.date == SourceTime("2026-12-03T02:00:00Z")?.date)
        #expect(SourceTime("yesterday") == nil && SourceTime("2026-12-03 10:00:00+8") == nil)
    }

    /// RFC 4231, test case 2, through the signer; and the text it signs.
    @Test func requestsAreSignedWithTheSharedSecret() throws {
        var signing = AdapterDefinition.Signing()
        signing.text = "{method} {path} {timestamp} {nonce} {app_key}"
        signing.encoding = .hex
        let signer = RequestSigner(signing: signing, appKey: "app-1", secret: "Jefe")
        let date = Date(timeIntervalSince1970: 1_764_727_200)
        let headers = Dictionary(uniqueKeysWithValues: signer.headers(method: "GET", path: "/list?a=1", body: [], date: date, nonce: "n-1"))
        #expect(headers["X-App-Key"] == "app-1" && headers["X-Timestamp"] == "1764727200000" && headers["X-Nonce"] == "n-1")
        signing.text = "what do ya want for nothing?"
        let vector = RequestSigner(signing: signing, appKey: "", secret: "Jefe").headers(method: "GET", path: "/", body: [])
        #expect(Dictionary(uniqueKeysWithValues: vector)["X-Signature"] == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(headers["X-Signature"] != Dictionary(uniqueKeysWithValues: vector)["X-Signature"])
    }

    @Test(arguments: [
        ("colour: red\n", "colour", "unknown key"),
        ("paging: {next: {token: x}}\n", "paging.next", "not a part"),
        ("paging: {overlap: soon}\n", "paging.overlap", "duration"),
        ("paging: {next_from: last-record, next: {time: T}, more: {path: m, equals: \"1\"}}\n", "paging.records", "path to the records"),
        ("paging: {next: {time: T}}\n", "paging.records", "counts records"),
        ("auth: {type: bearer}\n", "auth.token_env", "required"),
        ("auth: {type: hmac, app_key_env: K, secret_env: S, headers: {sig: X}}\n", "auth.headers", "unknown header"),
    ])
    func mistakesNameTheKey(extra: String, key: String, hint: String) throws {
        let base = """
            system: test-agency
            transport: http
            format: json
            streams: [{name: items, mapping: test/item, path: /items}]

            """
        var yaml = base + extra
        if !extra.hasPrefix("paging") { yaml += "paging: {next: {time: t}, more: {path: m, equals: \"1\"}}\n" }
        #expect {
            try Self.definition(yaml)
        } throws: { error in
            let error = error as? AdapterDefinition.LoadError
            return error?.key == key && error?.message.contains(hint) == true && error?.file.hasSuffix("adapter.yaml") == true
        }
    }
}
