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

/// The kind of canonical entity a record maps to; each kind has its own table in the hub.
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
    /// A receiver's acknowledgement (签收) of a warning by one responsible person, pulled back from it.
    public static let acknowledgement = EntityKind(rawValue: "acknowledgement")
    /// The umbrella over every report of one event (一事一档); computed by the hub, never mapped.
    public static let incident = EntityKind(rawValue: "incident")

    /// Every kind a mapping can produce; each has its own table.
    public static let all: [EntityKind] = [
        .workOrder, .fireAlarm, .warning, .policeTicket, .ambulanceCall, .acknowledgement, .exchangeReport,
    ]
    /// The kinds that are reports of an incident and go through identity resolution.
    public static let reports: [EntityKind] = [.workOrder, .fireAlarm, .policeTicket, .ambulanceCall, .exchangeReport]

    /// A matter handed from one platform to another (12345 ↔ 110 转办), carried by the hub.
    public static let transfer = EntityKind(rawValue: "transfer")
    /// The receiving platform's acceptance and result, reported back to the one that transferred.
    public static let transferFeedback = EntityKind(rawValue: "transfer_feedback")
    /// Everything a sharing agreement can grant: the mapped kinds, incidents and transfers.
    public static let deliverable: [EntityKind] = all + [.incident, .transfer, .transferFeedback]
}
