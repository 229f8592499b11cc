import Foundation
import Hummingbird
import LiandongHub
import LiandongModel

extension Console {
    /// Users, their grants and tokens, for admins.
    struct Users: Codable {
        var users: [ConsoleUser]
        var tokens: [APIToken]
    }

    /// A secret shown once: a new user's password or a new API token.
    struct Secret: Codable {
        var user: String
        var secret: String
        var kind: String
    }

    func users(_ context: ConsoleContext) async throws -> Users {
        try require(.manageUsers, context, "manage users")
        return Users(users: try await hub.console.users(), tokens: try await hub.console.tokens())
    }

    /// Grants from a form's `grants` field: one per line or comma-free item, `role` or `role@agency,agency`.
    static func grants(_ text: String?) throws -> [Grant] {
        try (text ?? "").split(whereSeparator: { $0 == "\n" || $0 == ";" || $0 == " " }).map { item in
            guard let grant = Grant(text: String(item)) else {
                throw ConsoleError.badRequest("unknown grant '\(item)': use viewer, operator, auditor, admin or personal_data, optionally @agency,agency")
            }
            return grant
        }
    }

    func userAction(_ action: String, _ form: Form, _ context: ConsoleContext) async throws -> Secret? {
        try require(.manageUsers, context, "manage users")
        let actor = try actor(context, reason: form["reason"])
        return try await hubCall {
            switch action {
            case "create":
                guard let name = form["name"] else { throw ConsoleError.badRequest("name is required") }
                let password = form.values["password"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.secret(bytes: 12)
                try await hub.console.createUser(name: name, passwordHash: Self.hash(password: password), grants: try Self.grants(form["grants"]), by: actor)
                return Secret(user: name, secret: password, kind: "password")
            case "update":
                let name = try context.parameters.require("name")
                let password = form.values["password"].flatMap { $0.isEmpty ? nil : $0 }
                try await hub.console.update(
                    user: name,
                    .init(
                        grants: form.values["grants"] != nil ? try Self.grants(form["grants"]) : nil, passwordHash: password.map(Self.hash(password:)),
                        disabled: form.values["disabled"] != nil ? form.flag("disabled") : nil),
                    by: actor)
                return nil
            case "token":
                let name = try context.parameters.require("name")
                let secret = "ld_" + Self.secret()
                try await hub.console.createToken(named: form["token_name"] ?? "script", secret: secret, for: name, by: actor)
                return Secret(user: name, secret: secret, kind: "token")
            case "revoke":
                try await hub.console.revokeToken(try context.parameters.require("id", as: Int64.self), by: actor)
                return nil
            default: throw ConsoleError.badRequest("unknown action \(action)")
            }
        }
    }

    func addUserRoutes(to router: Router<ConsoleContext>) {
        router.get("api/v1/users") { _, context in json(try await users(context)) }
        router.post("api/v1/users") { request, context in
            json(try await userAction("create", try await self.form(request, context), context), status: .created)
        }
        router.post("api/v1/users/:name") { request, context in
            _ = try await userAction("update", try await self.form(request, context), context)
            return json(try await users(context))
        }
        router.post("api/v1/users/:name/tokens") { request, context in
            json(try await userAction("token", try await self.form(request, context), context), status: .created)
        }
        router.post("api/v1/tokens/:id/revoke") { request, context in
            _ = try await userAction("revoke", try await self.form(request, context), context)
            return json(try await users(context))
        }
        router.get("users") { _, context in try await usersPage(context) }
        router.post("users") { request, context in
            try await usersPage(context, secret: try await userAction("create", try await self.form(request, context), context))
        }
        router.post("users/:name") { request, context -> Response in
            _ = try await userAction("update", try await self.form(request, context), context)
            return redirect("/users")
        }
        router.post("users/:name/tokens") { request, context in
            try await usersPage(context, secret: try await userAction("token", try await self.form(request, context), context))
        }
        router.post("tokens/:id/revoke") { request, context -> Response in
            _ = try await userAction("revoke", try await self.form(request, context), context)
            return redirect("/users")
        }
    }

    /// The users page, with a secret to show once after a user or token was made.
    func usersPage(_ context: ConsoleContext, secret: Secret? = nil) async throws -> Response {
        let all = try await users(context)
        var data: [String: Any] = [
            "users": all.users.map { u in
                ["name": u.name, "grants": u.grants.map(\.text).joined(separator: " "), "disabled": u.disabled, "lastLogin": u.lastLoginAt ?? false]
            },
            "tokens": all.tokens, "roles": Role.allCases.map { ["name": $0.rawValue, "title": $0.title] },
        ]
        data["secret"] = secret
        return page("users", title: "用户", section: "/users", context, data)
    }
}
