/// Every rule the hub decides by, loaded together from `Mappings/policies/`: which reports are one
/// incident and whose value wins (`incident`), who receives what (`sharing`), which matters are
/// transferred where (`routing`), which readings raise warnings (`thresholds`). A `Hub` is opened with one value and its writes follow it, so a hub
/// cannot ingest under one set of rules and deliver under another. With them come the record kinds
/// declared in `Mappings/kinds/`, whose tables the hub makes before it writes.
public struct HubPolicies: Sendable, Equatable {
    public var incident: IncidentPolicy
    public var sharing: SharingPolicy
    public var routing: RoutingPolicy
    public var kinds: RecordKinds
    public var thresholds: ThresholdPolicy

    public init(
        incident: IncidentPolicy, sharing: SharingPolicy, routing: RoutingPolicy, kinds: RecordKinds = .builtIn, thresholds: ThresholdPolicy = .none
    ) {
        self.incident = incident
        self.sharing = sharing
        self.routing = routing
        self.kinds = kinds
        self.thresholds = thresholds
    }

    /// No policy files: every report is its own incident, no field is decided, nothing is delivered
    /// or transferred, no reading raises a warning, no kind is declared. Said explicitly by callers that mean it (tests of storage,
    /// tools reading only).
    public static let none = HubPolicies(incident: .none, sharing: .none, routing: .none)
}
