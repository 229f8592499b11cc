extension String {
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
