import Foundation

/// Turns received bytes into text: strips a UTF-8 BOM, honours a declared label (HTTP `charset`, the
/// XML declaration, the mapping's default), decodes every GB-family label as GB18030, and refuses
/// bytes that are not valid in the chosen encoding.
public enum TextDecoding {
    /// The text encodings agencies use.
    public enum Charset: String, Sendable, Codable, CaseIterable {
        case utf8 = "utf-8"
        case gb18030
        case latin1 = "iso-8859-1"

        /// Maps a declared label (`GBK`, `gb2312`, `UTF8`, `latin1`) to a charset, or nil if unknown.
        public init?(label: String) {
            switch label.lowercased().trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-") {
            case "utf-8", "utf8": self = .utf8
            case "gbk", "gb2312", "gb18030", "cp936", "x-gbk", "euc-cn", "gb-2312": self = .gb18030
            case "iso-8859-1", "latin1", "iso8859-1", "l1", "us-ascii", "ascii": self = .latin1
            default: return nil
            }
        }

        /// Foundation's encoding; GB18030 has no named constant on Linux.
        var foundationEncoding: String.Encoding {
            switch self {
            case .utf8: return .utf8
            case .gb18030: return String.Encoding(rawValue: 0x8000_0632)
            case .latin1: return .isoLatin1
            }
        }
    }

    /// The result of decoding: the text and the charset that was used.
    public struct Decoded: Sendable {
        public var text: String
        public var charset: Charset
        /// The label the bytes or transport declared, if any.
        public var declared: String?
    }

    /// Why bytes could not be decoded.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Decodes `bytes`. The label declared by the transport wins over one inside the document, which
    /// wins over `fallback`.
    public static func decode(_ bytes: [UInt8], declared transportLabel: String?, fallback: Charset) throws(Failure)
        -> Decoded
    {
        var body = bytes[...]
        var bom = false
        if body.starts(with: [0xEF, 0xBB, 0xBF]) {
            body = body.dropFirst(3)
            bom = true
        }
        let declared = transportLabel ?? xmlDeclaredEncoding(body)
        var charset = fallback
        if bom {
            charset = .utf8
        } else if let declared {
            guard let known = Charset(label: declared) else {
                throw Failure(description: "unsupported encoding '\(declared)': use UTF-8, GB18030/GBK/GB2312 or ISO-8859-1")
            }
            charset = known
        }
        guard let text = String(data: Data(body), encoding: charset.foundationEncoding) else {
            throw Failure(description: "bytes are not valid \(charset.rawValue)" + (declared.map { " (declared '\($0)')" } ?? ""))
        }
        if charset == .gb18030, text.contains("\u{FFFD}") {
            throw Failure(description: "bytes are not valid gb18030")
        }
        return Decoded(text: text, charset: charset, declared: declared)
    }

    /// The `encoding` pseudo-attribute of an XML declaration at the start of `bytes`.
    static func xmlDeclaredEncoding(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.starts(with: Array("<?xml".utf8)) else { return nil }
        let head = bytes.prefix(200).prefix(while: { $0 != UInt8(ascii: ">") })
        guard let decl = String(bytes: head, encoding: .isoLatin1),
            let range = decl.range(of: "encoding")
        else { return nil }
        let rest = decl[range.upperBound...].drop(while: { $0 == " " || $0 == "=" })
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix(while: { $0 != quote }))
    }
}
