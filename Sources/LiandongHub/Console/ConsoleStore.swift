import Crypto
import Foundation
import LiandongModel
import PostgresNIO

/// The console's own tables (`hub.console`): users and their grants, sessions, API tokens and bulk
/// jobs. Passwords arrive here already hashed (bcrypt, by the server); session and API tokens only
/// as their SHA-256. Every change to a user or a token is an audit entry naming who made it.
public struct ConsoleStore: HubStore {
    let hub: Hub
}

/// A console user as admins see it (never the password hash).
public struct ConsoleUser: Sendable, Codable, Hashable {
    public var id: Int64
    public var name: String
    public var grants: [Grant]
    public var disabled: Bool
    public var createdAt: Date
    public var lastLoginAt: Date?

    /// Who this user is when asking.
    public var principal: Principal { Principal(user: name, grants: disabled ? [] : grants) }
}

/// An API token as listed (its secret is shown once, when made, and never kept).
public struct APIToken: Sendable, Codable, Hashable {
    public var id: Int64
    public var user: String
    public var name: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
}

/// A bulk action with its progress.
public struct ConsoleJob: Sendable, Codable, Hashable {
    public var id: Int64
    public var action: String
    /// The filter it was started from (a console URL query).
    public var filter: String
    public var requestedBy: String
    public var reason: String
    public var total: Int
    public var done: Int
    public var failed: Int
    public var status: String
    public var error: String?
    public var createdAt: Date
    public var finishedAt: Date?
}

extension ConsoleStore {
    /// The SHA-256 under which a session or API token is kept.
    public static func tokenHash(_ token: String) -> ByteBuffer {
        ByteBuffer(bytes: Array(SHA256.hash(data: Data(token.utf8))))
    }

    private static let userColumns = "id, name, grants::text, disabled, created_at, last_login_at"

    private func users(where condition: PostgresQuery) async throws -> [ConsoleUser] {
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM console_user u WHERE ")
        query.sql += condition.sql
        query.binds = condition.binds
        query.sql += " ORDER BY name"
        var users: [ConsoleUser] = []
        for try await (id, name, grants, disabled, created, lastLogin) in try await rows(query, logger: logger).decode(
            (Int64, String, String, Bool, Date, Date?).self)
        {
            users.append(
                ConsoleUser(
                    id: id, name: name, grants: Self.grants(fromJSON: grants), disabled: disabled, createdAt: created,
                    lastLoginAt: lastLogin))
        }
        return users
    }

    private static func grants(fromJSON json: String) -> [Grant] {
        ((try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []).compactMap { Grant(text: $0) }
    }

    private static func json(_ grants: [Grant]) -> String {
        FieldValue.array(grants.map { .string($0.text) }).canonicalJSON
    }

    /// Every user, by name.
    public func users() async throws -> [ConsoleUser] {
        try await users(where: "true")
    }

    /// The user named `name`, if any.
    public func user(named name: String) async throws -> ConsoleUser? {
        try await users(where: "u.name = \(name)").first
    }

    /// Whether any user exists yet (the first admin is made by `demo` or `users add`).
    public func hasUsers() async throws -> Bool {
        try await scalar("SELECT count(*)::int FROM (SELECT 1 FROM console_user LIMIT 1) AS any_user") > 0
    }

    /// Adds a user with a bcrypt `passwordHash`, audited.
    @discardableResult
    public func createUser(name: String, passwordHash: String, grants: [Grant], by actor: ActingUser) async throws -> ConsoleUser {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw HubError(.invalidState, "a user name is 1 to 64 letters, digits, '.', '_' or '-'")
        }
        try await hub.withIngestTransaction { tx, head in
            let rows = try await tx.conn.guardedQuery(
                """
                INSERT INTO console_user (name, password_hash, grants) VALUES (\(name), \(passwordHash), \(Self.json(grants))::jsonb)
                ON CONFLICT (name) DO NOTHING RETURNING id
                """, logger: logger)
            var made = false
            for try await _ in rows { made = true }
            guard made else { throw HubError(.invalidState, "a user named \(name) exists already") }
            tx.append(
                [
                    AuditDraft(
                        action: .userCreate, entityKind: "console_user", entityID: name,
                        content: ["grants": .array(grants.map { .string($0.text) })]
                    ).signed(by: actor)
                ], after: head)
        }
        guard let user = try await user(named: name) else { throw HubError(.notFound, "user \(name) vanished") }
        return user
    }

    /// What an admin changes about a user; nil members stay as they are.
    public struct UserChange: Sendable {
        public var grants: [Grant]?
        public var passwordHash: String?
        public var disabled: Bool?

        /// A change of any of the three.
        public init(grants: [Grant]? = nil, passwordHash: String? = nil, disabled: Bool? = nil) {
            self.grants = grants
            self.passwordHash = passwordHash
            self.disabled = disabled
        }
    }

    /// Changes a user, audited (a new password is recorded as changed, never its hash). A disabled user
    /// or a new password ends the user's sessions.
    public func update(user name: String, _ change: UserChange, by actor: ActingUser) async throws {
        try await hub.withIngestTransaction { tx, head in
            let rows = try await tx.conn.guardedQuery(
                """
                UPDATE console_user SET grants = coalesce(\(change.grants.map(Self.json))::jsonb, grants),
                    password_hash = coalesce(\(change.passwordHash), password_hash), disabled = coalesce(\(change.disabled), disabled),
                    failed_logins = CASE WHEN \(change.passwordHash)::text IS NULL THEN failed_logins ELSE 0 END,
                    locked_until = CASE WHEN \(change.passwordHash)::text IS NULL THEN locked_until END
                WHERE name = \(name) RETURNING id
                """, logger: logger)
            var id: Int64?
            for try await row in rows.decode(Int64.self) { id = row }
            guard let id else { throw HubError(.notFound, "no user named \(name)") }
            if change.passwordHash != nil || change.disabled == true {
                try await tx.conn.guardedQuery("DELETE FROM console_session WHERE user_id = \(id)", logger: logger)
            }
            var content: [String: FieldValue] = [:]
            if let grants = change.grants { content["grants"] = .array(grants.map { .string($0.text) }) }
            if change.passwordHash != nil { content["password"] = .string("changed") }
            if let disabled = change.disabled { content["disabled"] = .bool(disabled) }
            tx.append(
                [AuditDraft(action: .userUpdate, entityKind: "console_user", entityID: name, content: content).signed(by: actor)],
                after: head)
        }
    }

    // MARK: - Login

    /// What a login checks: the stored hash and whether the user may try now.
    public struct Credentials: Sendable {
        public var user: ConsoleUser
        public var passwordHash: String
        /// Until when failed logins lock the user out, if they do now.
        public var lockedUntil: Date?
    }

    /// The credentials of `name`, if such a user exists.
    public func credentials(of name: String) async throws -> Credentials? {
        let rows = try await rows(
            "SELECT password_hash, CASE WHEN locked_until > now() THEN locked_until END FROM console_user WHERE name = \(name)",
            logger: logger)
        for try await (hash, locked) in rows.decode((String, Date?).self) {
            guard let user = try await user(named: name) else { return nil }
            return Credentials(user: user, passwordHash: hash, lockedUntil: locked)
        }
        return nil
    }

    /// Records a failed login: after `allowed` failures in a row the user is locked out, for 30 s
    /// doubling with each further failure up to 15 minutes.
    public func recordFailedLogin(of name: String, allowed: Int = 5) async throws {
        try await rows(
            """
            UPDATE console_user SET failed_logins = failed_logins + 1,
                locked_until = CASE WHEN failed_logins + 1 >= \(allowed)
                    THEN now() + least(interval '15 minutes', interval '30 seconds' * power(2, failed_logins + 1 - \(allowed)))
                    ELSE locked_until END
            WHERE name = \(name)
            """, logger: logger)
    }

    /// Starts a session for `user` (its cookie token and CSRF token made by the caller), after a
    /// successful login: the failure count resets.
    public func startSession(for user: ConsoleUser, token: String, csrf: String) async throws {
        try await withTransaction { conn in
            try await conn.guardedQuery(
                "UPDATE console_user SET failed_logins = 0, locked_until = NULL, last_login_at = now() WHERE id = \(user.id)",
                logger: logger)
            try await conn.guardedQuery(
                "INSERT INTO console_session (token_hash, user_id, csrf_token) VALUES (\(Self.tokenHash(token)), \(user.id), \(csrf))",
                logger: logger)
        }
    }

    /// The user and CSRF token of a session not idle for more than `idleSeconds`, marked as seen now.
    /// An idle session is deleted and answers nil, as does an unknown one or one of a disabled user.
    public func session(token: String, idleSeconds: Double) async throws -> (user: ConsoleUser, csrf: String)? {
        let hash = Self.tokenHash(token)
        try await rows(
            """
            DELETE FROM console_session WHERE token_hash = \(hash)
              AND last_seen_at < now() - make_interval(secs => \(idleSeconds))
            """, logger: logger)
        let rows = try await rows(
            "UPDATE console_session SET last_seen_at = now() WHERE token_hash = \(hash) RETURNING user_id, csrf_token", logger: logger)
        for try await (userID, csrf) in rows.decode((Int64, String).self) {
            guard let user = try await users(where: "u.id = \(userID) AND NOT u.disabled").first else { return nil }
            return (user, csrf)
        }
        return nil
    }

    /// Ends a session.
    public func endSession(token: String) async throws {
        try await rows("DELETE FROM console_session WHERE token_hash = \(Self.tokenHash(token))", logger: logger)
    }

    // MARK: - API tokens

    /// Keeps a new API token of `user` (only its hash), audited; returns its id.
    @discardableResult
    public func createToken(named name: String, secret: String, for user: String, by actor: ActingUser) async throws -> Int64 {
        try await hub.withIngestTransaction { tx, head in
            let rows = try await tx.conn.guardedQuery(
                """
                INSERT INTO api_token (user_id, name, token_hash)
                SELECT id, \(name), \(Self.tokenHash(secret)) FROM console_user WHERE name = \(user) RETURNING id
                """, logger: logger)
            var id: Int64?
            for try await row in rows.decode(Int64.self) { id = row }
            guard let id else { throw HubError(.notFound, "no user named \(user)") }
            tx.append(
                [
                    AuditDraft(action: .tokenCreate, entityKind: "api_token", entityID: "\(id)", content: ["user": .string(user), "name": .string(name)])
                        .signed(by: actor)
                ], after: head)
            return id
        }
    }

    /// Every API token, newest first.
    public func tokens() async throws -> [APIToken] {
        var tokens: [APIToken] = []
        let rows = try await rows(
            """
            SELECT t.id, u.name, t.name, t.created_at, t.last_used_at, t.revoked_at
            FROM api_token t JOIN console_user u ON u.id = t.user_id ORDER BY t.id DESC
            """, logger: logger)
        for try await (id, user, name, created, used, revoked) in rows.decode((Int64, String, String, Date, Date?, Date?).self) {
            tokens.append(APIToken(id: id, user: user, name: name, createdAt: created, lastUsedAt: used, revokedAt: revoked))
        }
        return tokens
    }

    /// Revokes a token, audited.
    public func revokeToken(_ id: Int64, by actor: ActingUser) async throws {
        try await hub.withIngestTransaction { tx, head in
            let rows = try await tx.conn.guardedQuery(
                "UPDATE api_token SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING 1", logger: logger)
            var found = false
            for try await _ in rows { found = true }
            guard found else { throw HubError(.notFound, "no live API token \(id)") }
            tx.append([AuditDraft(action: .tokenRevoke, entityKind: "api_token", entityID: "\(id)", content: [:]).signed(by: actor)], after: head)
        }
    }

    /// The user a live token belongs to, marking the token used.
    public func user(forToken secret: String) async throws -> ConsoleUser? {
        let rows = try await rows(
            """
            UPDATE api_token SET last_used_at = now() WHERE token_hash = \(Self.tokenHash(secret)) AND revoked_at IS NULL
            RETURNING user_id
            """, logger: logger)
        for try await userID in rows.decode(Int64.self) {
            return try await users(where: "u.id = \(userID) AND NOT u.disabled").first
        }
        return nil
    }

    // MARK: - Jobs

    /// Records a bulk job about to run over `total` items, audited.
    public func startJob(action: String, filter: String, total: Int, by actor: ActingUser) async throws -> Int64 {
        try await hub.withIngestTransaction { tx, head in
            let rows = try await tx.conn.guardedQuery(
                """
                INSERT INTO console_job (action, filter, requested_by, reason, total)
                VALUES (\(action), \(filter), \(actor.name), \(actor.reason), \(total)) RETURNING id
                """, logger: logger)
            var id: Int64 = 0
            for try await row in rows.decode(Int64.self) { id = row }
            tx.append(
                [
                    AuditDraft(
                        action: .jobStart, entityKind: "console_job", entityID: "\(id)",
                        content: ["action": .string(action), "filter": .string(filter), "total": .number(Double(total))]
                    ).signed(by: actor)
                ], after: head)
            return id
        }
    }

    /// Counts one more item of a job done (or failed).
    public func advance(job id: Int64, failed: Bool) async throws {
        try await rows(
            "UPDATE console_job SET done = done + 1, failed = failed + \(failed ? 1 : 0) WHERE id = \(id)", logger: logger)
    }

    /// Marks a job finished, or failed with `error`.
    public func finish(job id: Int64, error: String? = nil) async throws {
        try await rows(
            """
            UPDATE console_job SET status = CASE WHEN \(error)::text IS NULL THEN 'finished' ELSE 'failed' END, error = \(error),
                finished_at = now() WHERE id = \(id)
            """, logger: logger)
    }

    /// The newest jobs (up to `limit`), or one.
    public func jobs(id: Int64? = nil, limit: Int = 20) async throws -> [ConsoleJob] {
        var jobs: [ConsoleJob] = []
        let rows = try await rows(
            """
            SELECT id, action, filter, requested_by, reason, total, done, failed, status, error, created_at, finished_at
            FROM console_job WHERE \(id)::bigint IS NULL OR id = \(id) ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        for try await (id, action, filter, by, reason, total, done, failed, status, error, created, finished) in rows.decode(
            (Int64, String, String, String, String, Int, Int, Int, String, String?, Date, Date?).self)
        {
            jobs.append(
                ConsoleJob(
                    id: id, action: action, filter: filter, requestedBy: by, reason: reason, total: total, done: done, failed: failed,
                    status: status, error: error, createdAt: created, finishedAt: finished))
        }
        return jobs
    }
}
