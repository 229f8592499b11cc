/// What a remote system answered to a request it refused or failed, kept apart from the error's
/// text: an agency's answer can carry anything (names, phone numbers, the document echoed back), so
/// error descriptions, logs, `last_error` and the audit chain never hold it. The delivery attempt it
/// came with does, for an admin to read (and remove).
public struct RemoteAnswer: Sendable, Hashable {
    /// The answer's first bytes, at most `limit`.
    public var body: [UInt8]
    /// The answer's declared content type.
    public var contentType: String?
    /// The reason the receiver gave, where its adapter knows where the answer says it (a returned
    /// transfer's 退回原因).
    public var reason: String?

    /// The most bytes of an answer kept.
    public static let limit = 4096

    /// An answer of `body` (cut to `limit`).
    public init(body: some Sequence<UInt8>, contentType: String?, reason: String? = nil) {
        self.body = Array(body.prefix(Self.limit))
        self.contentType = contentType
        self.reason = reason
    }
}
