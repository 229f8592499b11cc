import Foundation
import Hummingbird
import HummingbirdBcrypt
import LiandongHub
import LiandongModel

extension Console {
    /// The login cookie of the login form (double submit: the form's hidden field must match it), so
    /// that no other site can sign a browser in.
    static let loginCookie = "liandong_login"

    func addSessionRoutes(to router: Router<ConsoleContext>) {
        router.get("login") { request, context -> Response in
            loginPage(
                context, next: request.uri.queryParameters["next"].flatMap { Self.localPath(String($0)) } ?? "/",
                token: request.cookies[Self.loginCookie]?.value, secure: isTLS(request))
        }
        router.post("login") { request, context -> Response in
            var anonymous = context
            anonymous.csrf = nil
            let form = try await self.form(request, anonymous)
            guard let cookie = request.cookies[Self.loginCookie]?.value, form["login_token"] == cookie else {
                throw ConsoleError(.forbidden, "登录页已过期，请重新打开登录页（login form expired）")
            }
            let name = form["name"] ?? ""
            let next = form["next"].flatMap(Self.localPath) ?? "/"
            let user: ConsoleUser
            do {
                user = try await login(name: name, password: form.values["password"] ?? "")
            } catch let error as ConsoleError {
                return loginPage(anonymous, next: next, token: cookie, secure: isTLS(request), error: error)
            }
            // A new session every time: a session id never comes from the browser (no fixation).
            if let old = request.cookies[Authentication.sessionCookie]?.value { try await hub.console.endSession(token: old) }
            let token = Self.secret()
            try await hub.console.startSession(for: user, token: token, csrf: Self.secret(bytes: 16))
            var response = redirect(next)
            response.setCookie(sessionCookie(value: token, for: request))
            response.setCookie(Cookie(name: Self.loginCookie, value: "", maxAge: 0, path: "/login", httpOnly: true, sameSite: .strict))
            return response
        }
        router.post("logout") { request, context -> Response in
            _ = try await self.form(request, context)
            if let token = request.cookies[Authentication.sessionCookie]?.value { try await hub.console.endSession(token: token) }
            var response = redirect("/login")
            response.setCookie(sessionCookie(value: "", maxAge: 0, for: request))
            return response
        }
        router.get("api/v1/me") { _, context -> Response in
            guard let user = context.user else { throw ConsoleError(.unauthorized, "not signed in") }
            return json(Me(name: user.name, grants: user.grants.map(\.text), csrf: context.csrf))
        }
    }

    /// The login form, with the login token in its hidden field and its cookie: the browser's, so that
    /// a second tab or a request the browser makes on its own does not void the first form, else a new one.
    func loginPage(_ context: ConsoleContext, next: String, token: String? = nil, secure: Bool, error: ConsoleError? = nil) -> Response {
        let token = token.flatMap { $0.count == 22 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } ? $0 : nil }
            ?? Self.secret(bytes: 16)
        var data: [String: Any] = ["loginToken": token, "next": next]
        data["error"] = error?.message
        var response = page("login", title: "登录", section: "", context, data, status: error?.status ?? .ok)
        response.setCookie(
            Cookie(
                name: Self.loginCookie, value: token, maxAge: 600, path: "/login", secure: secure, httpOnly: true,
                sameSite: .strict))
        return response
    }

    /// `path` if it is a path of this site (`/errors?q=…`), nil for anything that could lead elsewhere
    /// (`//host`, `/\\host`, a scheme, control characters).
    static func localPath(_ path: String) -> String? {
        guard path.hasPrefix("/"), !path.hasPrefix("//"),
            path.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/_-.~?=&%+:,".contains($0)) })
        else { return nil }
        return path
    }

    /// Who is signed in, for scripts and the console's own script.
    struct Me: Codable {
        var name: String
        var grants: [String]
        var csrf: String?
    }

    /// Checks a name and password. Failures in a row lock the user out for a while; an unknown name
    /// costs the same bcrypt check as a known one and answers the same.
    func login(name: String, password: String) async throws -> ConsoleUser {
        let refused = ConsoleError(.unauthorized, "用户名或密码错误（wrong name or password）")
        guard let credentials = try await hub.console.credentials(of: name) else {
            _ = Bcrypt.verify(password, hash: Self.unknownUserHash)
            throw refused
        }
        if let until = credentials.lockedUntil {
            logger.warning("Login refused: locked", metadata: ["liandong.user": "\(name)"])
            throw ConsoleError(.tooManyRequests, "登录失败次数过多，请于 \(ConsoleTime.text(until)) 后再试（locked after failed logins）")
        }
        guard !credentials.user.disabled, Bcrypt.verify(password, hash: credentials.passwordHash) else {
            try await hub.console.recordFailedLogin(of: name, allowed: configuration.allowedFailedLogins)
            logger.warning("Login failed", metadata: ["liandong.user": "\(name)"])
            throw refused
        }
        logger.info("Signed in", metadata: ["liandong.user": "\(name)"])
        return credentials.user
    }

    /// A hash to check unknown names against, so that they take as long as known ones.
    static let unknownUserHash = Bcrypt.hash("no such user", cost: 12)

    func addAssetRoutes(to router: Router<ConsoleContext>) {
        router.get("assets/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }), !name.hasPrefix("."),
                let url = Bundle.module.url(forResource: "Assets/\(name)", withExtension: nil),
                let bytes = try? Data(contentsOf: url)
            else { throw ConsoleError(.notFound, "no asset \(name)") }
            let type = name.hasSuffix(".css") ? "text/css; charset=utf-8" : name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : "application/octet-stream"
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        // Browsers ask for it on their own; the console has none (and must not answer with the login page).
        router.get("favicon.ico") { _, _ in Response(status: .noContent) }
        router.get("api/openapi.yaml") { _, _ -> Response in
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let bytes = try? Data(contentsOf: url) else {
                throw ConsoleError(.notFound, "the OpenAPI document is missing from the build")
            }
            return Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
