import Foundation

/// Writes a document tree back as JSON, XML or CSV: what a simulator made from an agency's sample
/// pages needs to answer in the agency's own format. The tree keeps names and text only, so values
/// come back as strings, and a name repeated among siblings (or listed in `arrays`) as a JSON array.
public struct DocumentWriter: Sendable {
    /// Names always written as JSON arrays, however many there are (a page's records).
    public var arrays: Set<String>

    public init(arrays: Set<String> = []) { self.arrays = arrays }

    /// `document` (a parser's root) as text in `format`; an XML declaration names `encoding`.
    public func write(_ document: DocumentNode, as format: DocumentParser.Format, encoding: String = "UTF-8") -> String {
        switch format {
        case .json: json(document)
        case .jsonLines: document.children.map(json).joined(separator: "\n") + "\n"
        case .xml: "<?xml version=\"1.0\" encoding=\"\(encoding)\"?>\n" + document.children.map { xml($0, parentNamespace: nil) }.joined()
        case .csv: csv(document)
        }
    }

    private func json(_ node: DocumentNode) -> String {
        guard !node.children.isEmpty else { return node.text.map(Self.quoted) ?? "null" }
        // The parser names a top-level array's members `item`: a node whose children are all `item`
        // (or unnamed) was an array. (A real key `item` repeated alone under its parent reads back as one.)
        if node.children.allSatisfy({ $0.name == node.children[0].name }), node.children[0].name.isEmpty || node.children[0].name == "item" {
            return "[" + node.children.map(json).joined(separator: ",") + "]"
        }
        var order: [String] = []
        var groups: [String: [DocumentNode]] = [:]
        for child in node.children {
            if groups[child.name] == nil { order.append(child.name) }
            groups[child.name, default: []].append(child)
        }
        let members = order.map { name -> String in
            let group = groups[name]!
            let value = group.count == 1 && !arrays.contains(name) ? json(group[0]) : "[" + group.map(json).joined(separator: ",") + "]"
            return Self.quoted(name) + ":" + value
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    private func xml(_ node: DocumentNode, parentNamespace: String?) -> String {
        let attributes = node.children.filter { $0.name.hasPrefix("@") }
        let elements = node.children.filter { !$0.name.hasPrefix("@") }
        var open = "<" + node.name
        if let namespace = node.namespace, namespace != parentNamespace { open += " xmlns=\"\(Self.escaped(namespace))\"" }
        for attribute in attributes { open += " \(attribute.name.dropFirst())=\"\(Self.escaped(attribute.text ?? ""))\"" }
        guard !elements.isEmpty || node.text != nil else { return open + "/>" }
        return open + ">" + Self.escaped(node.text ?? "") + elements.map { xml($0, parentNamespace: node.namespace) }.joined()
            + "</\(node.name)>"
    }

    private func csv(_ document: DocumentNode) -> String {
        guard let header = document.children.first?.children.map(\.name) else { return "" }
        func cell(_ text: String) -> String {
            text.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        let rows = document.children.map { row in header.map { name in cell(row.first(name)?.text ?? "") }.joined(separator: ",") }
        return ([header.map(cell).joined(separator: ",")] + rows).joined(separator: "\r\n") + "\r\n"
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
