import Foundation
import LiandongModel

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses decoded text into a `DocumentNode`, with limits that keep a hostile document from
/// exhausting the hub.
public struct DocumentParser: Sendable {
    /// The formats the mapping language reads.
    public enum Format: String, Sendable, Codable {
        case json, xml, csv
        /// One JSON document per line (JSON Lines, as exchange folders deliver bulk exports); the
        /// root's children are the lines, each named `line`. Blank lines are skipped.
        case jsonLines = "json-lines"

        /// The media type documents of this format travel under.
        public var mediaType: String {
            switch self {
            case .json: "application/json"
            case .jsonLines: "application/jsonl"
            case .xml: "application/xml"
            case .csv: "text/csv"
            }
        }
    }

    /// Refuse documents larger than this many bytes.
    public var maxBytes: Int
    /// Refuse documents nested deeper than this.
    public var maxDepth: Int

    public init(maxBytes: Int = 16 << 20, maxDepth: Int = 64) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }

    /// Parses `text` as `format`. Throws a `MappingFailure` (path `/`) when it cannot.
    public func parse(_ text: String, as format: Format) throws(MappingFailure) -> DocumentNode {
        guard text.utf8.count <= maxBytes else {
            throw MappingFailure(path: "/", rule: .document, message: "document larger than \(maxBytes) bytes")
        }
        switch format {
        case .json: return try parseJSON(text)
        case .xml: return try parseXML(text)
        case .csv: return try parseCSV(text)
        case .jsonLines: return try parseJSONLines(text)
        }
    }

    func parseJSONLines(_ text: String) throws(MappingFailure) -> DocumentNode {
        var lines: [DocumentNode] = []
        for (number, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }) else {
                continue
            }
            lines.append(
                try jsonNode(String(decoding: line, as: UTF8.self), named: "line", path: "/line[\(number + 1)]", where: "line \(number + 1): "))
        }
        return DocumentNode(name: "", children: lines)
    }

    func parseJSON(_ text: String) throws(MappingFailure) -> DocumentNode {
        try jsonNode(text, named: "", path: "/", where: "")
    }

    /// One JSON document as a node named `name`; a failure names `path`, its message starts with `place`.
    private func jsonNode(_ text: String, named name: String, path: String, where place: String) throws(MappingFailure) -> DocumentNode {
        let value: FieldValue
        do {
            value = try FieldValue(jsonText: text)
        } catch {
            throw MappingFailure(path: path, rule: .document, message: "\(place)malformed JSON: \(Self.summary(of: error))")
        }
        guard depth(of: value) <= maxDepth else {
            throw MappingFailure(path: path, rule: .document, message: "JSON nested deeper than \(maxDepth) levels")
        }
        return node(named: name, from: value)
    }

    private func depth(of value: FieldValue) -> Int {
        switch value {
        case .array(let a): return 1 + (a.map(depth(of:)).max() ?? 0)
        case .object(let o): return 1 + (o.values.map(depth(of:)).max() ?? 0)
        default: return 0
        }
    }

    private func node(named name: String, from value: FieldValue) -> DocumentNode {
        switch value {
        case .object(let members):
            var children: [DocumentNode] = []
            for key in members.keys.sorted() {
                if case .array(let items) = members[key]! {
                    children += items.map { node(named: key, from: $0) }
                } else {
                    children.append(node(named: key, from: members[key]!))
                }
            }
            return DocumentNode(name: name, children: children)
        case .array(let items):
            return DocumentNode(name: name, children: items.map { node(named: "item", from: $0) })
        default:
            return DocumentNode(name: name, text: value.scalarText)
        }
    }

    func parseXML(_ text: String) throws(MappingFailure) -> DocumentNode {
        // Foundation's parser on Linux silently drops undefined entity text and would fetch external
        // subsets if asked; any DTD is refused before parsing.
        if text.range(of: "<!DOCTYPE", options: .caseInsensitive) != nil || text.contains("<!ENTITY") {
            throw MappingFailure(
                path: "/", rule: .doctype,
                message: "document declares a DTD or entities; refused unparsed (no DTD or entity is ever resolved)")
        }
        let builder = XMLTreeBuilder(maxDepth: maxDepth)
        let parser = XMLParser(data: Data(Self.withoutXMLDeclaration(text).utf8))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let ok = parser.parse()
        if let limit = builder.limitError {
            throw MappingFailure(path: "/", rule: .document, message: limit)
        }
        guard ok, let root = builder.root else {
            let reason = parser.parserError.map { Self.summary(of: $0) } ?? "no root element"
            throw MappingFailure(
                path: "/", rule: .document,
                message: "malformed XML at line \(parser.lineNumber), column \(parser.columnNumber): \(reason)")
        }
        return DocumentNode(name: "", children: [root])
    }

    /// The text without its XML declaration. The text is already decoded, and the parser gets it as
    /// UTF-8: a declaration still naming the original encoding (`GBK`) would make libxml2 decode the
    /// UTF-8 bytes a second time.
    static func withoutXMLDeclaration(_ text: String) -> Substring {
        let trimmed = text.drop(while: { $0 == "\u{FEFF}" || $0.isWhitespace })
        guard trimmed.hasPrefix("<?xml"), let end = trimmed.range(of: "?>") else { return trimmed }
        return trimmed[end.upperBound...]
    }

    func parseCSV(_ text: String) throws(MappingFailure) -> DocumentNode {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n", "\r":
                row.append(field); field = ""
                if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
                row = []
            default: field.append(c)
            }
        }
        if quoted {
            throw MappingFailure(path: "/", rule: .document, message: "malformed CSV: unterminated quoted field")
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        guard let header = rows.first else {
            throw MappingFailure(path: "/", rule: .document, message: "CSV has no header row")
        }
        var records: [DocumentNode] = []
        for (n, cells) in rows.dropFirst().enumerated() {
            guard cells.count == header.count else {
                throw MappingFailure(
                    path: "row[\(n)]", rule: .document,
                    message: "CSV row \(n + 2) has \(cells.count) fields, the header has \(header.count)")
            }
            records.append(
                DocumentNode(
                    name: "row",
                    children: zip(header, cells).map { DocumentNode(name: $0.0, text: $0.1) }))
        }
        return DocumentNode(name: "", children: records)
    }

    static func summary(of error: any Error) -> String {
        let text = "\(error)"
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

/// Builds a `DocumentNode` tree from parser events, counting depth.
private final class XMLTreeBuilder: NSObject, XMLParserDelegate {
    let maxDepth: Int
    var stack: [DocumentNode] = []
    var root: DocumentNode?
    var limitError: String?

    init(maxDepth: Int) { self.maxDepth = maxDepth }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        guard stack.count < maxDepth else {
            limitError = "XML nested deeper than \(maxDepth) levels"
            parser.abortParsing()
            return
        }
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        var node = DocumentNode(name: local, namespace: namespaceURI.flatMap { $0.isEmpty ? nil : $0 })
        for (key, value) in attributeDict.sorted(by: { $0.key < $1.key }) where !key.hasPrefix("xmlns") {
            node.children.append(DocumentNode(name: "@" + key, text: value))
        }
        stack.append(node)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text = (stack[stack.count - 1].text ?? "") + string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        self.parser(parser, foundCharacters: String(decoding: CDATABlock, as: UTF8.self))
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        guard var node = stack.popLast() else { return }
        if node.children.contains(where: { !$0.name.hasPrefix("@") }) {
            node.text = nil
        } else if let text = node.text {
            node.text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
    }
}
