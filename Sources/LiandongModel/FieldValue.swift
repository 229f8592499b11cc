import Foundation

/// A canonical field value: the JSON-like shape every mapped field takes, with one canonical encoding.
///
/// Canonical bytes (sorted keys, fixed number formatting) are what content hashes, audit entries and
/// the `stats` digest are computed from, so two runs that map the same input produce the same bytes.
public enum FieldValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([FieldValue])
    case object([String: FieldValue])

    /// The text of a scalar, or `nil` for null, arrays and objects.
    public var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return FieldValue.format(n)
        case .bool(let b): return b ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }

    /// The value as people read it: a scalar's text, or canonical JSON for null, arrays and objects.
    public var readableText: String { scalarText ?? canonicalJSON }

    /// The value as a string, if it is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as a number: a number, or text that parses as one.
    public var numberValue: Double? {
        switch self {
        case .number(let n): return n
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    /// The elements of an array, if it is one.
    public var arrayValue: [FieldValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members of an object, if it is one.
    public var objectValue: [String: FieldValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Canonical JSON text: object keys sorted by their UTF-8 bytes, no insignificant white space,
    /// integral numbers without a fraction.
    public var canonicalJSON: String { String(decoding: canonicalJSONBytes, as: UTF8.self) }

    /// The UTF-8 bytes of `canonicalJSON`, what hashes are computed over. Written into one byte
    /// buffer: appending to a `String` scalar by scalar was a large part of each record's cost.
    public var canonicalJSONBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: FieldValue.format(n).utf8)
        case .string(let s): FieldValue.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            FieldValue.writeObject(members, into: &out) { value, out in value.write(into: &out) }
        }
    }

    /// Canonical JSON of an object whose members are canonical JSON bytes already (written once for
    /// a hash or a row and reused): the same bytes as `canonicalJSONBytes` of the object of their values.
    public static func canonicalJSONBytes(ofWrittenMembers members: [String: [UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        writeObject(members, into: &out) { bytes, out in out += bytes }
        return out
    }

    /// `{` members sorted by their keys' UTF-8 bytes `}`, each value written by `writeValue`.
    private static func writeObject<Value>(
        _ members: [String: Value], into out: inout [UInt8], writeValue: (Value, inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: "{"))
        for (i, member) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeString(member.key, into: &out)
            out.append(UInt8(ascii: ":"))
            writeValue(member.value, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func format(_ n: Double) -> String {
        if n.isFinite, n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return "\(n)"
    }

    /// A JSON string: `"`, `\\` and control characters escaped, everything else as its UTF-8 bytes.
    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        defer { out.append(UInt8(ascii: "\"")) }
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain == true { return }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
            case ..<0x20:
                let digits: StaticString = "0123456789abcdef"
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(digits.utf8Start[Int(byte >> 4)])
                out.append(digits.utf8Start[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
    }
}

extension FieldValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([FieldValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: FieldValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// Literals for values written in code (tests, defaults): `"closed"`, `3`.
extension FieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}
