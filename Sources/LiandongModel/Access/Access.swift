import Foundation

/// What a console or API user may do: roles, each granted for all agencies or some, and the separate
/// permission to see personal data unmasked. Deny by default: a user with no grant may do nothing.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads every page; personal data masked.
    case viewer
    /// A viewer who also replays, ignores, retries, pauses and decides identity.
    case `operator`
    /// Verifies the audit chain and reads trails; changes nothing.
    case auditor
    /// Manages users, roles, scopes and tokens.
    case admin

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The permissions this role carries.
    public var permissions: Set<Permission> {
        switch self {
        case .viewer: [.read]
        case .operator: [.read, .operate]
        case .auditor: [.read, .audit]
        case .admin: [.read, .manageUsers]
        }
    }

    /// The role's name in the console.
    public var title: String {
        switch self {
        case .viewer: "查看员"
        case .operator: "操作员"
        case .auditor: "审计员"
        case .admin: "管理员"
        }
    }
}

/// One thing a request may need.
public enum Permission: String, Sendable, Codable, CaseIterable {
    /// Read pages and API lists.
    case read
    /// Replay, ignore, retry, pause and resume, split, merge, accept and reject, resolve.
    case operate
    /// Verify the audit chain, read an entity's trail and the admin actions.
    case audit
    /// Manage users, their grants and tokens.
    case manageUsers = "manage_users"
    /// See phone and ID numbers, names and patients' conditions unmasked.
    case personalData = "personal_data"
}

/// A role or the personal-data permission, for every agency or only for some (the 119 liaison sees
/// and fixes 119's failures only). Coded as its text: `operator@fire-119,police-110`.
public struct Grant: Sendable, Codable, Hashable {
    /// What is granted: a role's permissions, or `personal_data` alone.
    public var permissions: Set<Permission>
    /// The name shown and stored: a role's raw value or `personal_data`.
    public var name: String
    /// The agencies (source systems) it covers; nil for all of them.
    public var agencies: Set<String>?

    /// A role, for `agencies` (nil: all).
    public init(_ role: Role, agencies: Set<String>? = nil) {
        self.permissions = role.permissions
        self.name = role.rawValue
        self.agencies = agencies
    }

    /// The permission to see personal data unmasked, for `agencies` (nil: all).
    public static func personalData(agencies: Set<String>? = nil) -> Grant {
        Grant(permissions: [.personalData], name: Permission.personalData.rawValue, agencies: agencies)
    }

    private init(permissions: Set<Permission>, name: String, agencies: Set<String>?) {
        self.permissions = permissions
        self.name = name
        self.agencies = agencies
    }

    /// A grant by its stored name (`operator`, `personal_data`); nil for an unknown name.
    public init?(name: String, agencies: Set<String>?) {
        if let role = Role(rawValue: name) {
            self.init(role, agencies: agencies)
        } else if name == Permission.personalData.rawValue {
            self = .personalData(agencies: agencies)
        } else {
            return nil
        }
    }

    /// The grant as written in the console and the CLI: `operator`, or `operator@fire-119,police-110`.
    public var text: String {
        guard let agencies else { return name }
        return name + "@" + agencies.sorted().joined(separator: ",")
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let grant = Grant(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a grant: \(text)"))
        }
        self = grant
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    /// Reads `text`'s form; nil when the name is not a role or `personal_data`.
    public init?(text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map {
            String($0).trimmingCharacters(in: .whitespaces)
        }
        var agencies: Set<String>?
        if parts.count == 2 {
            // `operator@` names no agency: refused rather than read as every agency.
            let named = Set(parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            guard !named.isEmpty else { return nil }
            agencies = named
        }
        self.init(name: parts[0], agencies: agencies)
    }
}

/// Who is asking: a user's name and grants.
public struct Principal: Sendable, Codable, Hashable {
    public var user: String
    public var grants: [Grant]

    /// A principal named `user` holding `grants`.
    public init(user: String, grants: [Grant]) {
        self.user = user
        self.grants = grants
    }

    /// Whether `permission` is granted for `agency`, or, with `agency` nil, for every agency.
    public func may(_ permission: Permission, for agency: String? = nil) -> Bool {
        grants.contains { grant in
            guard grant.permissions.contains(permission) else { return false }
            guard let agencies = grant.agencies else { return true }
            return agency.map(agencies.contains) ?? false
        }
    }

    /// Whether `permission` is granted for at least one agency.
    public func mayAny(_ permission: Permission) -> Bool {
        grants.contains { $0.permissions.contains(permission) && $0.agencies?.isEmpty != true }
    }

    /// The agencies `permission` is granted for; nil when it is granted for all.
    public func agencies(for permission: Permission) -> Set<String>? {
        var union = Set<String>()
        for grant in grants where grant.permissions.contains(permission) {
            guard let agencies = grant.agencies else { return nil }
            union.formUnion(agencies)
        }
        return union
    }
}
