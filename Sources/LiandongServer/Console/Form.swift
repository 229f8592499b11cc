import Foundation
import HTTPTypes
import Hummingbird
import LiandongModel

/// The fields of a form post (`application/x-www-form-urlencoded`) or of an API call's JSON object,
/// trimmed; empty fields count as absent.
struct Form: Sendable {
    var values: [String: String]

    subscript(_ key: String) -> String? {
        guard let value = values[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// Whether a checkbox or JSON boolean is on.
    func flag(_ key: String) -> Bool { ["1", "true", "on", "yes"].contains(self[key]?.lowercased() ?? "") }
}

extension Console {
    /// Reads a mutating request's fields and, for a browser session, checks its CSRF token (the form's
    /// `csrf` field or the `X-CSRF-Token` header): a missing or wrong one is refused 403 and logged.
    func form(_ request: Request, _ context: ConsoleContext) async throws -> Form {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let text = String(buffer: body)
        guard !text.contains("\u{0}") else { throw ConsoleError.badRequest("NUL characters are not accepted") }
        var values: [String: String] = [:]
        if request.headers[.contentType]?.hasPrefix("application/json") == true {
            guard case .object(let members) = (try? FieldValue(jsonText: text.isEmpty ? "{}" : text)) ?? .null else {
                throw ConsoleError.badRequest("the body must be a JSON object")
            }
            for (key, value) in members {
                if case .array(let items) = value {
                    values[key] = items.compactMap(\.scalarText).joined(separator: "\n")
                } else {
                    values[key] = value.scalarText
                }
            }
        } else if !text.isEmpty {
            values = (try? URLEncodedFormDecoder().decode([String: String].self, from: text)) ?? [:]
        }
        guard !values.contains(where: { $0.key.contains("\u{0}") || $0.value.contains("\u{0}") }) else {
            throw ConsoleError.badRequest("NUL characters are not accepted")
        }
        let form = Form(values: values)
        if let expected = context.csrf {
            let given = form["csrf"] ?? request.headers[.csrfToken]
            guard given == expected else {
                logger.warning("Denied: CSRF token missing or wrong", metadata: ["liandong.user": "\(context.principal.user)", "liandong.path": "\(request.uri.path)"])
                throw ConsoleError(.forbidden, "表单已过期或来源不明，请刷新页面后重试（CSRF token missing or wrong）")
            }
        }
        return form
    }
}

extension HTTPField.Name {
    static let csrfToken = Self("X-CSRF-Token")!
}
