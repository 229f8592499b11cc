import Foundation
import HTTPTypes
import Hummingbird
import LiandongHub
import LiandongModel
import Mustache

extension Console {
    /// One link of the navigation bar, shown to users who may open it.
    struct NavItem {
        var href: String
        var label: String
        var current: Bool
    }

    /// The navigation for `principal`: each page it may read.
    func navigation(for principal: Principal, current: String) -> [NavItem] {
        var items: [(String, String, Bool)] = [
            ("/", "总览", principal.mayAny(.read)),
            ("/errors", "映射错误", principal.mayAny(.read)),
            ("/incidents", "事件", principal.may(.read)),
            ("/deliveries", "推送", principal.mayAny(.read)),
            ("/loops", "转办·指令·叫应", principal.may(.read)),
            ("/streams", "数据流", principal.mayAny(.read)),
            ("/audit", "审计", principal.may(.audit)),
        ]
        items.append(("/users", "用户", principal.may(.manageUsers)))
        return items.filter(\.2).map { NavItem(href: $0.0, label: $0.1, current: $0.0 == current) }
    }

    /// A page: `template` rendered inside the layout with `data`, the user, the navigation and the
    /// session's CSRF token for its forms.
    func page(
        _ template: String, title: String, section: String, _ context: ConsoleContext, _ data: [String: Any] = [:],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var object = data
        object["pageTitle"] = title
        object["user"] = context.user?.name
        object["csrf"] = context.csrf
        object["nav"] = navigation(for: context.principal, current: section)
        object["mayOperate"] = data["mayOperate"] ?? context.principal.mayAny(.operate)
        object["maySeePersonal"] = context.principal.mayAny(.personalData)
        let html = templates.render(object, withTemplate: template) ?? "template \(template) is missing"
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
                .xContentTypeOptions: "nosniff", .referrerPolicy: "same-origin",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// An error as a page, with the status it carries.
    func errorPage(_ error: ConsoleError, context: ConsoleContext) -> Response {
        page("message", title: "出错了", section: "", context, ["message": error.message, "status": error.status.code], status: error.status)
    }

    /// A JSON answer of the API.
    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: Self.jsonText(value))))
    }

    /// A redirect after a form post (303: the browser then asks with GET).
    func redirect(_ location: String) -> Response {
        Response.redirect(to: location, type: .normal)
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}

/// Times on pages: Asia/Shanghai, to the second.
extension Date: @retroactive MustacheCustomRenderable {
    public var renderText: String { ConsoleTime.text(self) }
    public var isNull: Bool { false }
}

/// Values on pages: text as itself, anything else as JSON; null renders as nothing.
extension FieldValue: MustacheCustomRenderable {
    public var renderText: String { readableText }
    public var isNull: Bool { self == .null }
}

/// How the console writes and reads times: `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai.
enum ConsoleTime {
    static let zone = TimeZone(identifier: "Asia/Shanghai")!

    static func text(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: zone, from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// A time from a filter field: `2026-12-03`, `2026-12-03 08:00`, `2026-12-03T08:00` (Asia/Shanghai)
    /// or ISO 8601 with a zone; nil for anything else, and for years outside 1900–9999 (PostgresNIO
    /// traps on a date past the year 294,000, which Foundation's calendar accepts).
    static func parse(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        return parsed(text).flatMap { plausible.contains($0) ? $0 : nil }
    }

    /// The times a filter may name.
    static let plausible = Date(timeIntervalSince1970: -2_208_988_800)...Date(timeIntervalSince1970: 253_402_300_799)

    private static func parsed(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let parts = text.replacingOccurrences(of: "T", with: " ").split(whereSeparator: { $0 == " " || $0 == "-" || $0 == ":" }).compactMap { Int($0) }
        guard parts.count >= 3 else { return nil }
        var components = DateComponents(
            calendar: Calendar(identifier: .gregorian), timeZone: zone, year: parts[0], month: parts[1], day: parts[2],
            hour: parts.count > 3 ? parts[3] : 0, minute: parts.count > 4 ? parts[4] : 0, second: parts.count > 5 ? parts[5] : 0)
        components.timeZone = zone
        return components.date
    }
}

/// Masks personal data for a user without the `personal_data` permission for the agency the data
/// came from; shows it unchanged to one with it.
struct Masker {
    let principal: Principal

    func shows(_ agency: String?) -> Bool { principal.may(.personalData, for: agency) }

    func fields(_ value: FieldValue, of agency: String?) -> FieldValue {
        shows(agency) ? value : PersonalData.masked(value)
    }

    func value(_ value: FieldValue, field: String?, of agency: String?) -> FieldValue {
        shows(agency) ? value : PersonalData.masked(value, field: field)
    }

    func text(_ text: String?, of agency: String?) -> String? {
        guard let text else { return nil }
        return shows(agency) ? text : PersonalData.maskedText(text)
    }

    func document(_ text: String, of agency: String?, keys: [String: PersonalData.Kind] = [:], values: [String: PersonalData.Kind] = [:]) -> String {
        shows(agency) ? text : PersonalData.maskedDocument(text, keys: keys, values: values)
    }
}

extension Masker {
    /// A transfer with its free text masked (the matter's own record is not in it).
    func transfer(_ transfer: TransferView) -> TransferView {
        var transfer = transfer
        transfer.reason = text(transfer.reason, of: nil) ?? ""
        transfer.feedback = text(transfer.feedback, of: nil)
        transfer.returnReason = text(transfer.returnReason, of: nil)
        return transfer
    }

    /// An instruction receipt with the addressee's feedback and the signer's name masked.
    func instruction(_ receipt: InstructionReceiptView) -> InstructionReceiptView {
        var receipt = receipt
        receipt.feedback = text(receipt.feedback, of: nil)
        if !shows(nil) { receipt.acknowledgedBy = receipt.acknowledgedBy.map { PersonalData.mask($0, as: .name) } }
        return receipt
    }
}

extension ConsoleContext {
    var masker: Masker { Masker(principal: principal) }
}
