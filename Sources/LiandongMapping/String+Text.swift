import Foundation

extension String {
    /// The text in Unicode NFC. Foundation's normalisation, run on every string of every record, was
    /// a large share of mapping, so text that is NFC by a quick look is returned as it is: every
    /// scalar below U+0300 (no combining marks), a CJK ideograph, CJK punctuation or a full-width
    /// form, none of which composes or decomposes.
    func nfc() -> String {
        let plain = unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case ..<0x300, 0x3001...0x3029, 0x4E00...0x9FFF, 0xFF01...0xFF5E: true
            default: false
            }
        }
        return plain ? self : precomposedStringWithCanonicalMapping
    }

    /// The text without leading and trailing white space (Unicode `White_Space`, which is what
    /// Foundation's `.whitespacesAndNewlines` holds). Returns the string itself when there is none to
    /// take, the common case, without the bridging `trimmingCharacters(in:)` costs on Linux.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last,
            first.properties.isWhitespace || last.properties.isWhitespace
        else { return self }
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}
