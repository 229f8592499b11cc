/// A code list with its crosswalks: canonical codes and their labels, and per source system the
/// mapping from that system's own codes (or labels) to the canonical ones. Kept as data in
/// `Mappings/codes/`, never as Swift enums, because every agency has its own codes for the same facts.
public struct CodeList: Sendable, Hashable {
    /// The list's name (`fire-task-type`).
    public var name: String
    /// Canonical code → label.
    public var codes: [String: String]
    /// Crosswalk name → (source code → canonical code).
    public var crosswalks: [String: [String: String]]

    public init(name: String, codes: [String: String], crosswalks: [String: [String: String]] = [:]) {
        self.name = name
        self.codes = codes
        self.crosswalks = crosswalks
    }

    /// The canonical code for `value`: through the named crosswalk when given, else `value` itself if
    /// it is a canonical code, else the canonical code whose label is `value`.
    public func canonicalCode(for value: String, crosswalk: String?) -> String? {
        if let crosswalk, let code = crosswalks[crosswalk]?[value] { return code }
        if codes[value] != nil { return value }
        return codes.first(where: { $0.value == value })?.key
    }
}
