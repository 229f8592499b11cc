import LiandongModel

/// Who made an admin decision, and why: every mutating action from the console, the API or the CLI
/// names one, and its audit entry carries both (`by`, `reason`) beside what changed.
public struct ActingUser: Sendable, Hashable {
    /// The console user's name, or `cli:<login>` for a command run on the server.
    public var name: String
    public var reason: String

    /// `name` acting for `reason`.
    public init(_ name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    var auditContent: [String: FieldValue] { ["by": .string(name), "reason": .string(reason)] }
}

extension AuditDraft {
    /// This draft naming who decided it and why.
    func signed(by actor: ActingUser) -> AuditDraft {
        var draft = self
        draft.content.merge(actor.auditContent) { _, new in new }
        return draft
    }
}
