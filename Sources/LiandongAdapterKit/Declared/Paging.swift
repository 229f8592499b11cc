import Foundation
import LiandongMapping

/// How a stream's pages follow one another: what the request carries, where the page names the
/// cursor that follows it, and whether more is waiting. Pure: `request` and `next` reach nothing, so
/// the paging rules of a folder are testable without the agency.
public struct Paging: Sendable {
    /// What the cursor is.
    public enum Style: String, Sendable, Codable, CaseIterable {
        /// The last record's update time and id (stored `time|id`), re-read with an overlap window.
        case updateTime = "update-time"
        /// An opaque continuation the page names (stored as given).
        case token
        /// A page number, counted from `start` (default 1).
        case page
        /// The `Link: <…>; rel="next"` header of the answer (stored as the next page's path).
        case link
    }

    /// Whether more is waiting after a page.
    public enum More: Sendable {
        /// The page says so at `path` with the text `equals`.
        case flag(path: String, equals: String)
        /// A page of `pageSize` records means ask again.
        case fullPage
    }

    public var style: Style
    /// Records asked for per page (`{page_size}`); the configuration's `page_size` wins.
    public var pageSize: Int
    /// Query parameters of every list request, by name; a value is a template of `{page_size}` and the
    /// cursor's parts (`{time}`, `{id}`, `{token}`, `{page}`), left out while a part it names is empty.
    public var query: [(name: String, template: String)]
    /// Where the next cursor's parts are (`time`, `id`, or `token`): paths from the page's root, or
    /// from its last record when `nextFromLastRecord`.
    public var next: [String: String]
    public var nextFromLastRecord: Bool
    /// Path from the page's root to each record.
    public var records: String?
    public var more: More
    /// The cursor before the first page (a `token` cursor's first value; a `page` cursor's, default 1).
    public var start: String?
    /// How far before its last update time a stream is read again once it has caught up, so that a
    /// record committed late, or stamped by a clock that runs ahead, is not skipped.
    public var overlap: TimeInterval
    /// Each record is an index entry; the document at this path (a link, relative to the record) is
    /// fetched and kept instead of the page (an Atom feed of CAP alerts).
    public var follow: String?

    /// The request path for `stream` after `cursor`: the stream's path with the query, or the stored
    /// next page of a `link` cursor.
    public func request(path: String, after cursor: String?, pageSize: Int) -> String {
        if style == .link, let cursor, cursor.hasPrefix("/") { return cursor }
        var parts = ["page_size": "\(pageSize)"]
        switch style {
        case .updateTime:
            if let position = UpdateTimeCursor(cursor) {
                let from = position.settled ? position.rewound(by: overlap) : position
                parts["time"] = from.time
                parts["id"] = from.id
            }
        case .token: parts["token"] = cursor ?? start
        case .page: parts["page"] = cursor ?? start ?? "1"
        case .link: break
        }
        var items: [(String, String)] = []
        for (name, template) in query {
            guard let value = Self.fill(template, parts) else { continue }
            items.append((name, value))
        }
        return path + queryString(items)
    }

    /// Replaces `{part}`s in `template`; nil when a part it names is empty.
    static func fill(_ template: String, _ parts: [String: String]) -> String? {
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            guard let value = parts[String(rest[rest.index(after: open)..<close])], !value.isEmpty else { return nil }
            result += value
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    /// The cursor after `page` (read from the answer to `requested`, asked after `cursor`), and whether
    /// more is waiting. A page that names no continuation keeps `cursor`; an update-time cursor never
    /// moves back.
    public func next(after cursor: String?, page: DocumentNode, requested: String, link: String?, pageSize: Int) -> (cursor: String?, hasMore: Bool) {
        let records = self.records.map { page.select($0) } ?? []
        let hasMore: Bool
        switch more {
        case .flag(let path, let equals): hasMore = page.select(path).first?.text == equals
        case .fullPage: hasMore = records.count >= pageSize
        }
        func value(_ part: String) -> String? {
            guard let path = next[part] else { return nil }
            let node = nextFromLastRecord ? records.last?.select(path).first : page.select(path).first
            guard let text = node?.text, !text.isEmpty else { return nil }
            return text
        }
        switch style {
        case .updateTime:
            let previous = UpdateTimeCursor(cursor)
            // Where this page was asked from: the overlap window's start after a settled cursor.
            let asked = previous.map { $0.settled ? $0.rewound(by: overlap) : $0 }
            var position =
                value("time").map { UpdateTimeCursor(time: $0, id: value("id") ?? "") }.flatMap { next in
                    // An answer that names no place past where it was asked from (an echo, an earlier
                    // time) moves nothing; one within the window pages through it.
                    asked.map { $0.isBefore(next) } ?? true ? next : nil
                } ?? previous
            position?.settled = !hasMore && overlap > 0
            return (position?.text ?? cursor, hasMore)
        case .token:
            return (value("token") ?? cursor, hasMore)
        case .page:
            let current = Int(cursor ?? start ?? "1") ?? 1
            return (hasMore ? "\(current + 1)" : "\(current)", hasMore)
        case .link:
            guard let next = link.flatMap(Self.nextLink) else { return (requested, false) }
            return (next, true)
        }
    }

    /// The `rel="next"` target of a `Link` header (RFC 8288), as written.
    static func nextLink(_ header: String) -> String? {
        for item in header.split(separator: ",") {
            let pieces = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">"),
                pieces.dropFirst().contains(where: { $0.replacingOccurrences(of: "\"", with: "").lowercased() == "rel=next" })
            else { continue }
            return String(target.dropFirst().dropLast())
        }
        return nil
    }
}

/// `paging:` as written.
struct PagingFile: Decodable {
    var cursor: Paging.Style?
    var pageSize: Int?
    var query: [String: String] = [:]
    var next: [String: String] = [:]
    var nextFrom: String?
    var records: String?
    var more: Paging.More?
    var start: String?
    var overlap: String?
    var follow: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case cursor, pageSize = "page_size", query, next, nextFrom = "next_from", records, more, start, overlap, follow
    }

    init() {}

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cursor = try c.decodeIfPresent(Paging.Style.self, forKey: .cursor)
        pageSize = try c.decodeIfPresent(Int.self, forKey: .pageSize)
        query = try c.decodeIfPresent([String: String].self, forKey: .query) ?? [:]
        next = try c.decodeIfPresent([String: String].self, forKey: .next) ?? [:]
        nextFrom = try c.decodeIfPresent(String.self, forKey: .nextFrom)
        records = try c.decodeIfPresent(String.self, forKey: .records)
        start = try c.decodeIfPresent(String.self, forKey: .start)
        overlap = try c.decodeIfPresent(String.self, forKey: .overlap)
        follow = try c.decodeIfPresent(String.self, forKey: .follow)
        if (try? c.decodeIfPresent(String.self, forKey: .more)) == "full-page" {
            more = .fullPage
        } else if let flag = try c.decodeIfPresent(FlagFile.self, forKey: .more) {
            more = .flag(path: flag.path, equals: flag.equals)
        }
    }

    struct FlagFile: Decodable {
        var path: String
        var equals: String
    }
}

extension Paging {
    init(_ file: PagingFile, transport: AdapterDefinition.Transport) throws {
        typealias Key = PagingFile.CodingKeys
        func invalid(_ key: Key, _ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: [AdapterFile.CodingKeys.paging, key], debugDescription: message))
        }
        style = file.cursor ?? .updateTime
        pageSize = file.pageSize ?? 100
        guard (1...10_000).contains(pageSize) else { throw invalid(.pageSize, "expected a number from 1 to 10000") }
        query = file.query.sorted { $0.key < $1.key }.map { (name: $0.key, template: $0.value) }
        next = file.next
        records = file.records
        start = file.start
        follow = file.follow
        switch file.nextFrom ?? "page" {
        case "page": nextFromLastRecord = false
        case "last-record": nextFromLastRecord = true
        case let other: throw invalid(.nextFrom, "expected page or last-record, got '\(other)'")
        }
        overlap = 0
        if let text = file.overlap {
            guard let seconds = TimeInterval(durationText: text), seconds >= 0 else {
                throw invalid(.overlap, "expected a duration like 10s or 2m, got '\(text)'")
            }
            overlap = seconds
        } else if style == .updateTime {
            overlap = 10
        }
        more = file.more ?? .fullPage
        let parts: [String] =
            switch style {
            case .updateTime: ["time", "id"]
            case .token: ["token"]
            case .page, .link: []
            }
        for part in next.keys where !parts.contains(part) {
            throw invalid(.next, "'\(part)' is not a part of a \(style.rawValue) cursor; expected \(parts.isEmpty ? "none" : parts.joined(separator: ", "))")
        }
        if transport == .http, style == .updateTime || style == .token, next[parts[0]] == nil {
            throw invalid(.next, "say where the page names the next cursor's \(parts[0])")
        }
        if case .fullPage = more, records == nil, transport == .http, style != .link {
            throw invalid(.records, "'more: full-page' counts records: give the path to them")
        }
        if nextFromLastRecord, records == nil { throw invalid(.records, "'next_from: last-record' needs the path to the records") }
        if follow != nil, records == nil { throw invalid(.records, "'follow' reads each record's link: give the path to the records") }
        if transport == .database, style != .updateTime || next["time"] == nil || next["id"] == nil {
            throw invalid(.next, "a table is read by update time and id: give next: {time: <column>, id: <column>}")
        }
    }
}
