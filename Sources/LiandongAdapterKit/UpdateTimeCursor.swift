/// The cursor of a source paged by update time: the last record's update time, and its id to break
/// ties between records changed in the same second. Stored as `time|id`.
public struct UpdateTimeCursor: Sendable, Hashable {
    /// The update time as the source writes it.
    public var time: String
    /// The id of the last record at that time.
    public var id: String

    public init(time: String, id: String) {
        self.time = time
        self.id = id
    }

    /// Reads a stored cursor; nil for none or one of another form.
    public init?(_ text: String?) {
        let parts = text?.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false) ?? []
        guard parts.count == 2 else { return nil }
        self.init(time: String(parts[0]), id: String(parts[1]))
    }

    /// The continuation a page names, or `previous` when the page names none.
    public static func next(time: String?, id: String?, previous: String?) -> String? {
        guard let time, !time.isEmpty else { return previous }
        return UpdateTimeCursor(time: time, id: id ?? "").text
    }

    /// The stored form.
    public var text: String { "\(time)|\(id)" }
}
