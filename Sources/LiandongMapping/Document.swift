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
    /// any name; an empty path selects this node.
    public func select(_ path: String) -> [DocumentNode] {
        var current = [self]
        for segment in path.split(whereSeparator: { $0 == "." || $0 == "/" }) {
            current = current.flatMap { node in
                node.children.filter { segment == "*" || $0.name == segment }
            }
            if current.isEmpty { break }
        }
        return current
    }

    /// The node as a canonical value: text for leaves, objects (repeated names as arrays) for containers.
    public var value: FieldValue {
        if children.isEmpty { return text.map(FieldValue.string) ?? .null }
        var members: [String: [FieldValue]] = [:]
        for child in children { members[child.name, default: []].append(child.value) }
        return .object(members.mapValues { $0.count == 1 ? $0[0] : .array($0) })
    }
}
