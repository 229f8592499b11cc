/// What an audit entry records, as written into its body (`incident.link`, `delivery.sent`). A type,
/// not strings at each call. What a change entails (the deliveries owed) follows from the
/// `ChangeSet` its step returned, never from these values. A struct rather than an enum: the chain
/// keeps the actions earlier versions wrote.
public struct AuditAction: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// A mapped record stored for the first time, or at a new version.
    public static let insert = Self(rawValue: "insert")
    public static let update = Self(rawValue: "update")
    /// A lower-authority value kept beside the one that won.
    public static let alternate = Self(rawValue: "alternate")
    /// An explicit link between two records.
    public static let link = Self(rawValue: "link")
    /// An incident computed for the first time, or at a new version.
    public static let incidentCreate = Self(rawValue: "incident.create")
    public static let incidentUpdate = Self(rawValue: "incident.update")
    public static let incidentLink = Self(rawValue: "incident.link")
    public static let incidentMerge = Self(rawValue: "incident.merge")
    public static let incidentMerged = Self(rawValue: "incident.merged")
    public static let incidentSplit = Self(rawValue: "incident.split")
    public static let incidentCandidate = Self(rawValue: "incident.candidate")
    public static let candidateAccept = Self(rawValue: "candidate.accept")
    public static let candidateReject = Self(rawValue: "candidate.reject")
    public static let candidateSupersede = Self(rawValue: "candidate.supersede")
    public static let conflictOpen = Self(rawValue: "conflict.open")
    public static let conflictResolve = Self(rawValue: "conflict.resolve")
    public static let quarantine = Self(rawValue: "quarantine")
    public static let ignore = Self(rawValue: "ignore")
    public static let replay = Self(rawValue: "replay")
    public static let replayFailed = Self(rawValue: "replay_failed")
    public static let rebuild = Self(rawValue: "rebuild")
    public static let deliverySent = Self(rawValue: "delivery.sent")
    public static let deliveryRetry = Self(rawValue: "delivery.retry")
    /// An operator's answer to a delivery awaiting approval (the emergency broadcast platform's).
    public static let deliveryApprove = Self(rawValue: "delivery.approve")
    public static let deliveryRefuse = Self(rawValue: "delivery.refuse")
    public static let transferCreate = Self(rawValue: "transfer.create")
    public static let transferAnswer = Self(rawValue: "transfer.answer")
    public static let instructionReceipt = Self(rawValue: "instruction.receipt")
    public static let instructionReply = Self(rawValue: "instruction.reply")
    public static let calloutCreate = Self(rawValue: "callout.create")
    public static let calloutAcknowledge = Self(rawValue: "callout.acknowledge")
    /// A stream paused or resumed by an admin.
    public static let streamPause = Self(rawValue: "stream.pause")
    public static let streamResume = Self(rawValue: "stream.resume")
    /// Console users and their API tokens, managed by an admin.
    public static let userCreate = Self(rawValue: "user.create")
    public static let userUpdate = Self(rawValue: "user.update")
    public static let tokenCreate = Self(rawValue: "token.create")
    public static let tokenRevoke = Self(rawValue: "token.revoke")
    /// A bulk job started from the console or the API.
    public static let jobStart = Self(rawValue: "job.start")

    /// A delivery's final outcome: `delivery.dead`, `delivery.expired`.
    static func delivery(_ status: DeliveryStatus) -> Self { Self(rawValue: "delivery.\(status.rawValue)") }
}
