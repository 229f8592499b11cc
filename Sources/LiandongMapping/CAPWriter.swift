import Foundation
import LiandongModel

/// Writes a warning's canonical fields (as the CAP mapping reads them, or as a threshold rule raises
/// them) as an OASIS CAP 1.2 `alert`, elements in the order the schema's sequences demand and times
/// with their offset in China (`2026-07-14T08:00:00+08:00`), for receivers that take CAP
/// (`document: {format: xml, profile: cap}`: the emergency broadcast platform). Only the fields
/// granted reach it; an absent optional element is left out.
public enum CAPWriter {
    public static let namespace = "urn:oasis:names:tc:emergency:cap:1.2"

    /// The CAP 1.2 document for `fields`, UTF-8.
    public static func document(_ fields: [String: FieldValue]) -> [UInt8] {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"\(namespace)\">"
        xml += elements(fields, [
            ("identifier", "identifier"), ("sender", "sender"), ("sent", "sent"), ("status", "status"), ("msgType", "msg_type"),
            ("source", "source"), ("scope", "scope"), ("note", "note"),
        ])
        if let references = fields["references"]?.arrayValue?.compactMap(\.scalarText), !references.isEmpty {
            xml += element("references", references.joined(separator: " "))
        }
        for info in fields["info"]?.arrayValue?.compactMap(\.objectValue) ?? [] {
            xml += "<info>" + elements(info, [("language", "language")])
            for category in info["categories"]?.arrayValue?.compactMap(\.scalarText) ?? [] { xml += element("category", category) }
            xml += elements(info, [("event", "event"), ("urgency", "urgency"), ("severity", "severity"), ("certainty", "certainty")])
            xml += pairs("eventCode", info["event_codes"])
            xml += elements(info, [
                ("effective", "effective"), ("onset", "onset"), ("expires", "expires"), ("senderName", "sender_name"),
                ("headline", "headline"), ("description", "description"), ("instruction", "instruction"),
            ])
            for area in info["areas"]?.arrayValue?.compactMap(\.objectValue) ?? [] {
                xml += "<area>" + elements(area, [("areaDesc", "description")])
                for polygon in area["polygons"]?.arrayValue?.compactMap(\.scalarText) ?? [] { xml += element("polygon", polygon) }
                for circle in area["circles"]?.arrayValue?.compactMap(\.scalarText) ?? [] { xml += element("circle", circle) }
                xml += pairs("geocode", area["geocodes"]) + "</area>"
            }
            xml += "</info>"
        }
        return Array((xml + "</alert>\n").utf8)
    }

    /// The CAP elements named, from the canonical fields beside them, in the order given.
    static func elements(_ fields: [String: FieldValue], _ names: [(cap: String, field: String)]) -> String {
        names.compactMap { name in fields[name.field]?.scalarText.map { element(name.cap, $0) } }.joined()
    }

    /// `<eventCode>` / `<geocode>` pairs of `valueName` and `value`.
    static func pairs(_ name: String, _ list: FieldValue?) -> String {
        (list?.arrayValue?.compactMap(\.objectValue) ?? []).compactMap { pair in
            guard let valueName = pair["name"]?.scalarText, let value = pair["value"]?.scalarText else { return nil }
            return "<\(name)>" + element("valueName", valueName) + element("value", value) + "</\(name)>"
        }.joined()
    }

    static func element(_ name: String, _ text: String) -> String {
        "<\(name)>\(time(text).xmlEscaped)</\(name)>"
    }

    /// A canonical UTC time (`2026-07-14T00:00:00Z`) as CAP writes times: in China, with the offset
    /// and no fraction or `Z` (the schema's pattern). Any other text is itself.
    static func time(_ text: String) -> String {
        guard text.hasSuffix("Z"), let date = Date(canonicalText: text) else { return text }
        return TimeParser(pattern: "yyyy-MM-ddTHH:mm:ss", zone: china).format(date) + "+08:00"
    }

    private static let china = TimeZone(identifier: "Asia/Shanghai")!
}
