/// Every rule the hub decides by, loaded together from `Mappings/policies/`: which reports are one
/// incident and whose value wins (`incident`), who receives what (`sharing`), which matters are
/// transferred where (`routing`). A `Hub` is opened with one value and its writes follow it, so a hub
/// cannot ingest under one set of rules and deliver under another.
public struct HubPolicies: Sendable, Equatable {
    public var incident: IncidentPolicy
    public var sharing: SharingPolicy
    public var routing: RoutingPolicy

    public init(incident: IncidentPolicy, sharing: SharingPolicy, routing: RoutingPolicy) {
        self.incident = incident
        self.sharing = sharing
        self.routing = routing
    }

    /// No policy files: every report is its own incident, no field is decided, nothing is delivered
    /// or transferred. Said explicitly by callers that mean it (tests of storage, tools reading only).
    public static let none = HubPolicies(incident: .none, sharing: .none, routing: .none)
}
