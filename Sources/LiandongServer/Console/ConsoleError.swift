import Hummingbird
import LiandongHub

/// An error the console answers with a status and a message safe to show (the API as JSON
/// `{"error": {"message": …}}`, pages as the error page).
struct ConsoleError: HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    static func forbidden(_ what: String) -> ConsoleError {
        ConsoleError(.forbidden, "无权操作：\(what)（forbidden）")
    }

    static func badRequest(_ message: String) -> ConsoleError { ConsoleError(.badRequest, message) }

    /// A hub error as the console answers it: not found 404, a wrong state 409, anything else 500.
    static func from(_ error: HubError) -> ConsoleError {
        switch error.code {
        case .notFound: ConsoleError(.notFound, error.message)
        case .invalidState: ConsoleError(.conflict, error.message)
        default: ConsoleError(.internalServerError, error.message)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Console.jsonText(["error": ["message": message]])
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
