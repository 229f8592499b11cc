/// The policies identity resolution and the authority merge follow, from `Mappings/policies/`.
public struct IncidentPolicy: Sendable, Hashable {
    public var authority: AuthorityPolicy
    public var matching: MatchingPolicy

    public init(authority: AuthorityPolicy, matching: MatchingPolicy) {
        self.authority = authority
        self.matching = matching
    }

    /// No policy files: no field is decided and nothing matches, so every report is its own incident.
    public static let none = IncidentPolicy(
        authority: AuthorityPolicy(fields: [:]),
        matching: MatchingPolicy(
            autoLink: .infinity, candidate: .infinity, weights: .init(family: 0, distance: 0, time: 0, text: 0),
            distanceFull: 0, distanceLimit: 0, timeFull: 0, timeLimit: 0, families: [:]))
}
