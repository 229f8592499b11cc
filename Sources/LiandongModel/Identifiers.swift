import Foundation

/// The name of an agency system as used on the command line and in configuration (`hotline-12345`).
public struct SourceSystemID: Hashable, Sendable, RawRepresentable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}

/// The kind of canonical entity a record maps to; each kind has its own table in the hub. The kinds
/// below are built in (their tables made by migrations); others are declared in YAML
/// (`KindDeclaration`), and `RecordKinds` holds both.
public struct EntityKind: Hashable, Sendable, RawRepresentable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// A 12345 hotline work order (工单).
    public static let workOrder = EntityKind(rawValue: "work_order")
    /// A 119 fire-rescue alarm (警情).
    public static let fireAlarm = EntityKind(rawValue: "fire_alarm")
    /// A warning (预警), CAP-shaped.
    public static let warning = EntityKind(rawValue: "warning")
    /// A 110 police ticket (警单).
    public static let policeTicket = EntityKind(rawValue: "police_ticket")
    /// A 120 ambulance call (急救呼叫).
    public static let ambulanceCall = EntityKind(rawValue: "ambulance_call")
    /// An incident report relayed by a data-sharing exchange (共享交换平台) from any of its member
    /// systems, delivered as JSON-lines files.
    public static let exchangeReport = EntityKind(rawValue: "exchange_report")
    /// The emergency bureau's report of an emergency (突发事件信息): category, grade, response level and
    /// report stage (初报/续报/终报), which the bureau decides.
    public static let bureauIncident = EntityKind(rawValue: "bureau_incident")
    /// An instruction (指令) the bureau issues to named agencies, each of which must acknowledge it and
    /// report back.
    public static let instruction = EntityKind(rawValue: "instruction")
    /// An addressee's acknowledgement (签收) of and feedback (反馈) on an instruction, pulled back from it.
    public static let instructionReply = EntityKind(rawValue: "instruction_reply")
    /// An entry of the bureau's resource registers: rescue team, equipment, material stock, expert or shelter.
    public static let resource = EntityKind(rawValue: "resource")
    /// A receiver's acknowledgement (签收) of a warning by one responsible person, pulled back from it.
    public static let acknowledgement = EntityKind(rawValue: "acknowledgement")
    /// The umbrella over every report of one event (一事一档); computed by the hub, never mapped.
    public static let incident = EntityKind(rawValue: "incident")

    /// The built-in kinds a mapping can produce; each has its own table.
    public static let builtIn: [EntityKind] = [
        .workOrder, .fireAlarm, .warning, .policeTicket, .ambulanceCall, .acknowledgement, .exchangeReport, .bureauIncident,
        .instruction, .instructionReply, .resource,
    ]
    /// The built-in kinds that are reports of an incident and go through identity resolution.
    public static let builtInReports: [EntityKind] = [.workOrder, .fireAlarm, .policeTicket, .ambulanceCall, .exchangeReport, .bureauIncident]

    /// A matter handed from one platform to another (12345 ↔ 110 转办), carried by the hub.
    public static let transfer = EntityKind(rawValue: "transfer")
    /// The receiving platform's acceptance and result, reported back to the one that transferred.
    public static let transferFeedback = EntityKind(rawValue: "transfer_feedback")
    /// One addressee's acknowledgement and feedback on an instruction, reported back to its issuer.
    public static let instructionFeedback = EntityKind(rawValue: "instruction_feedback")
    /// What the hub computes and delivers beside the mapped kinds: incidents, transfers and their
    /// feedback, instruction feedback.
    public static let computed: [EntityKind] = [.incident, .transfer, .transferFeedback, .instructionFeedback]
}
