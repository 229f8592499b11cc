import Foundation
import HTTPTypes
import Hummingbird
import LiandongHub
import LiandongModel
import Logging

/// Finds who is asking: a bearer API token (`Authorization: Bearer …`, for scripts; no CSRF, no
/// cookie) or the session cookie (a browser; its forms carry the session's CSRF token). Anyone else
/// reaches only the login page, the assets, the OpenAPI document and the operations endpoints: the
/// API answers them 401, pages send them to the login page. Errors on pages are shown as a page.
struct Authentication: RouterMiddleware {
    typealias Context = ConsoleContext
    let console: Console

    static let sessionCookie = "liandong_session"

    /// Paths anyone may ask for.
    static func isPublic(_ path: String) -> Bool {
        ["/healthz", "/readyz", "/metrics", "/login", "/api/openapi.yaml", "/favicon.ico"].contains(path) || path.hasPrefix("/assets/")
    }

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response) async throws -> Response {
        var context = context
        let path = request.uri.path
        let isAPI = path.hasPrefix("/api/")
        do {
            // PostgreSQL text cannot hold NUL: refused here rather than failing a query later.
            guard !request.uri.description.lowercased().contains("%00") else {
                throw ConsoleError.badRequest("NUL characters are not accepted")
            }
            if Self.isPublic(path) {
                // The login page, the assets, the document and the operations endpoints ask nobody who
                // they are: a monitor's own Authorization header must not be refused there.
                return try await next(request, context)
            }
            if let authorization = request.headers[.authorization] {
                guard authorization.hasPrefix("Bearer "),
                    let user = try await console.hub.console.user(forToken: String(authorization.dropFirst("Bearer ".count)))
                else {
                    throw ConsoleError(.unauthorized, "API 令牌无效或已撤销（invalid or revoked token）")
                }
                context.user = user
            } else if let token = request.cookies[Self.sessionCookie]?.value,
                let session = try await console.hub.console.session(token: token, idleSeconds: console.configuration.idleTimeout.seconds)
            {
                context.user = session.user
                context.csrf = session.csrf
            }
            if context.user == nil, !Self.isPublic(path) {
                guard !isAPI else { throw ConsoleError(.unauthorized, "请先登录或使用 API 令牌（sign in or give a bearer token）") }
                let next = request.uri.description.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
                var response = Response.redirect(to: "/login?next=\(next)", type: .found)
                if request.cookies[Self.sessionCookie] != nil {
                    // An idle or unknown session: the stale cookie goes.
                    response.setCookie(console.sessionCookie(value: "", maxAge: 0, for: request))
                }
                return response
            }
            return try await next(request, context)
        } catch let error as ConsoleError where !isAPI {
            return console.errorPage(error, context: context)
        }
    }
}

extension Console {
    /// The session cookie: `HttpOnly`, `SameSite=Strict`, `Secure` over TLS, for the whole site.
    func sessionCookie(value: String, maxAge: Int? = nil, for request: Request) -> Cookie {
        Cookie(
            name: Authentication.sessionCookie, value: value, maxAge: maxAge, path: "/", secure: isTLS(request), httpOnly: true,
            sameSite: .strict)
    }

    /// Whether the browser reached the console over TLS: configured so (`secureCookies`), or said so by
    /// the TLS-terminating proxy in front (`X-Forwarded-Proto: https`).
    func isTLS(_ request: Request) -> Bool {
        configuration.secureCookies || request.headers[.xForwardedProto]?.lowercased() == "https"
    }
}

extension HTTPField.Name {
    static let xForwardedProto = Self("X-Forwarded-Proto")!
}
