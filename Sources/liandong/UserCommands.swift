import ArgumentParser
import Foundation
import LiandongHub
import LiandongModel
import LiandongServer

/// `liandong users`: the console's users, their grants and API tokens, from the server's shell (every
/// change audited with the login that made it).
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Console users: add, list, change grants or password, disable, make API tokens.",
        discussion: """
            A grant is a role (viewer, operator, auditor, admin) or personal_data, for every agency or only some: \
            operator@fire-119,police-110. Deny by default: a user without grants sees nothing.
            """,
        subcommands: [Add.self, List.self, Change.self, Token.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every user with their grants.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let users = try await Runtime(global).withPlainHub { try await $0.console.users() }
            try output.list(users, "user") { u in
                "\(u.name)  \(u.grants.map(\.text).joined(separator: " "))" + (u.disabled ? "  DISABLED" : "")
                    + (u.lastLoginAt.map { "  last login \($0.canonicalText)" } ?? "")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user; prints the generated password once unless --password-env names one.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(name: .customLong("grant"), help: "A grant (repeat for several): viewer, operator@fire-119, personal_data, …") var grants: [String] = []
        @Option(name: .customLong("password-env"), help: "An environment variable holding the password.") var passwordEnv: String?
        @OptionGroup var decision: DecisionOptions

        func run() async throws {
            let grants = try Users.grants(grants)
            let given = passwordEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
            if let passwordEnv, given == nil { throw ValidationError("--password-env: \(passwordEnv) is not set") }
            let password = given ?? Console.secret(bytes: 12)
            _ = try await Runtime(global).withPlainHub { hub in
                try await hub.console.createUser(name: name, passwordHash: Console.hash(password: password), grants: grants, by: decision.actor)
            }
            print("user \(name) added: \(grants.map(\.text).joined(separator: " "))")
            if given == nil { print("password (shown once): \(password)") }
        }
    }

    struct Change: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change a user's grants or password, or disable or enable them.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(name: .customLong("grant"), help: "The user's grants from now on (repeat for several).") var grants: [String] = []
        @Option(name: .customLong("password-env"), help: "An environment variable holding the new password.") var passwordEnv: String?
        @Flag(inversion: .prefixedEnableDisable, help: "Let the user sign in, or not (their sessions end).") var enable: Bool?
        @OptionGroup var decision: DecisionOptions

        func run() async throws {
            let password = try passwordEnv.map { variable in
                guard let value = ProcessInfo.processInfo.environment[variable] else { throw ValidationError("--password-env: \(variable) is not set") }
                return Console.hash(password: value)
            }
            let change = ConsoleStore.UserChange(
                grants: grants.isEmpty ? nil : try Users.grants(grants), passwordHash: password, disabled: enable.map { !$0 })
            try await Runtime(global).withPlainHub { try await $0.console.update(user: name, change, by: decision.actor) }
            print("user \(name) changed")
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an API token for a user's scripts; prints it once.")
        @OptionGroup var global: GlobalOptions
        @Argument var user: String
        @Option(help: "What the token is for.") var name = "script"
        @OptionGroup var decision: DecisionOptions

        func run() async throws {
            let secret = "ld_" + Console.secret()
            _ = try await Runtime(global).withPlainHub { try await $0.console.createToken(named: name, secret: secret, for: user, by: decision.actor) }
            print("token (shown once; send as 'Authorization: Bearer …'): \(secret)")
        }
    }

    static func grants(_ texts: [String]) throws -> [Grant] {
        try texts.map { text in
            guard let grant = Grant(text: text) else {
                throw ValidationError("--grant \(text): use viewer, operator, auditor, admin or personal_data, optionally @agency,agency")
            }
            return grant
        }
    }
}
