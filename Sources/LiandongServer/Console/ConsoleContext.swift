import Foundation
import Hummingbird
import LiandongHub
import LiandongModel
import Logging

/// The request context of the console and its API: who is asking (after `Authentication`), how, and
/// the CSRF token their forms must carry.
public struct ConsoleContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The signed-in user, or the user of the API token given; nil for anyone else.
    var user: ConsoleUser?
    /// The session's CSRF token, when the user came with the session cookie (not with a token).
    var csrf: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// JSON with ISO 8601 times, keys sorted, for the API.
    public var responseEncoder: JSONEncoder { Console.jsonEncoder }

    /// The user's principal: no grants for anyone not signed in (deny by default).
    var principal: Principal { user?.principal ?? Principal(user: "anonymous", grants: []) }
}
