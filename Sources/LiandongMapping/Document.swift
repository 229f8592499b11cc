import LiandongModel

/// One parsed document as a tree, the same shape for JSON, XML and CSV, so that mapping paths work
/// alike on all three.
///
/// A JSON object's members and an XML element's children become named children; a JSON array under
/// a key becomes repeated children of that name; XML attributes become children named `@name`;
/// each CSV row becomes a child named `row` whose children are the columns.
public struct DocumentNode: Sendable, Hashable {
    /// The member, element or column name (local name for XML).
    public var name: String
    /// The namespace URI of an XML element.
    public var namespace: String?
    /// The scalar value (JSON scalar, XML text content, CSV cell); nil for containers and null.
    public var text: String?
    /// Child nodes in document order.
    public var children: [DocumentNode]

    public init(name: String, namespace: String? = nil, text: String? = nil, children: [DocumentNode] = []) {
        self.name = name
        self.namespace = namespace
        self.text = text
        self.children = children
    }

    /// The nodes a path selects, in document order. Segments are separated by `.` or `/`; `*` matches
    /// any name; `name[key=value]` keeps the nodes whose child `key` has that text, and
    /// `name[key=a|b]` either text; an empty path selects this node.
    public func select(_ path: String) -> [DocumentNode] {
        select(Self.segments(of: path))
    }

    /// The first node `path` selects. A path of one plain name is looked up among the children
    /// without building the list of every match (most mapping paths are one name).
    public func first(_ path: String) -> DocumentNode? {
        guard Self.isPlainName(path) else { return select(path).first }
        return children.first { $0.name == path }
    }

    /// Whether `path` is one segment without `*` or a predicate.
    static func isPlainName(_ path: String) -> Bool {
        !path.isEmpty && !path.utf8.contains {
            $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "*")
        }
    }

    /// The nodes a parsed path selects.
    func select(_ segments: some Sequence<Segment>) -> [DocumentNode] {
        var current = [self]
        for segment in segments {
            current = current.flatMap { node in
                node.children.filter { segment.matches($0) }
            }
            if current.isEmpty { break }
        }
        return current
    }

    /// One step of a path.
    struct Segment {
        var name: Substring
        var key: String?
        var values: [String] = []

        func matches(_ node: DocumentNode) -> Bool {
            guard name == "*" || node.name == name else { return false }
            guard let key else { return true }
            return node.children.contains { $0.name == key && values.contains($0.text ?? "") }
        }
    }

    static func segments(of path: String) -> [Segment] {
        // Most paths are one plain name: no need to walk them character by character.
        if !path.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "[") }) {
            return path.isEmpty ? [] : [Segment(name: path[...])]
        }
        var segments: [Segment] = []
        var current = ""
        var depth = 0
        func flush() {
            guard !current.isEmpty else { return }
            if let open = current.firstIndex(of: "["), current.hasSuffix("]") {
                let predicate = current[current.index(after: open)..<current.index(before: current.endIndex)]
                let pair = predicate.split(separator: "=", maxSplits: 1).map(String.init)
                segments.append(
                    Segment(
                        name: current[..<open][...], key: pair.first,
                        values: pair.count == 2 ? pair[1].split(separator: "|").map(String.init) : []))
            } else {
                segments.append(Segment(name: current[...]))
            }
            current = ""
        }
        for c in path {
            if c == "[" { depth += 1 }
            if c == "]" { depth -= 1 }
            if depth == 0, c == "." || c == "/" {
                flush()
            } else {
                current.append(c)
            }
        }
        flush()
        return segments
    }

    /// The node as a canonical value: text for leaves, objects (repeated names as arrays) for containers.
    public var value: FieldValue {
        if children.isEmpty { return text.map(FieldValue.string) ?? .null }
        var members: [String: [FieldValue]] = [:]
        for child in children { members[child.name, default: []].append(child.value) }
        return .object(members.mapValues { $0.count == 1 ? $0[0] : .array($0) })
    }
}
