import Foundation
import LiandongModel

/// Writes records in each agency's native format.
enum Render {
    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    /// 12345: REST JSON page.
    static func hotlinePage(_ items: [SimulatedVersion], hasMore: Bool, malformed: Bool) -> [UInt8] {
        var objects: [[String: String]] = items.map { Dictionary(uniqueKeysWithValues: $0.fields) }
        if malformed, !objects.isEmpty { objects[0]["updateTime"] = "2026-13-45 25:61:00" }
        let last = items.last
        let body: [String: Any] = [
            "code": 0, "message": "success",
            "data": [
                "items": objects, "hasMore": hasMore,
                "next": ["updatedAfter": last?["updateTime"] ?? "", "afterId": last?.id ?? ""],
            ],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())
    }

    /// 119: GBK XML with pinyin-initial element names.
    static func firePage(_ items: [SimulatedVersion], hasMore: Bool, malformed: Bool) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"GBK\"?>\n"
        let last = items.last
        xml += "<JQLB SFYHY=\"\(hasMore ? 1 : 0)\" XYKSSJ=\"\(last?["GXSJ"] ?? "")\" XYKSBH=\"\(last?.id ?? "")\">\n"
        for (n, item) in items.enumerated() {
            xml += "  <JQ>\n"
            for (key, value) in item.fields {
                if key == "CDDW" {
                    xml += "    <CDDW>" + value.split(separator: ";").map { "<DW><DWMC>\(escape(String($0)))</DWMC></DW>" }.joined()
                        + "</CDDW>\n"
                } else {
                    let text = malformed && n == 0 && key == "XZQH" ? "99999X" : value
                    xml += "    <\(key)>\(escape(text))</\(key)>\n"
                }
            }
            xml += "  </JQ>\n"
        }
        return xml + "</JQLB>\n"
    }

    /// A 119 list of plain records (`<QSLB SFYHY XYKSSJ XYKSBH><QS>…</QS></QSLB>`), in GBK once encoded.
    static func fireList(root: String, item: String, _ items: [SimulatedVersion], hasMore: Bool) -> String {
        let last = items.last
        var xml = "<?xml version=\"1.0\" encoding=\"GBK\"?>\n"
        xml += "<\(root) SFYHY=\"\(hasMore ? 1 : 0)\" XYKSSJ=\"\(last?["GXSJ"] ?? "")\" XYKSBH=\"\(last?.id ?? "")\">\n"
        for record in items {
            xml += "  <\(item)>" + record.fields.map { "<\($0)>\(escape($1))</\($0)>" }.joined() + "</\(item)>\n"
        }
        return xml + "</\(root)>\n"
    }

    /// 110: JSON with Chinese keys, the records under `数据.<list>`.
    static func policePage(_ items: [SimulatedVersion], list: String = "警单", hasMore: Bool, malformed: Bool) -> [UInt8] {
        var objects: [[String: String]] = items.map { Dictionary(uniqueKeysWithValues: $0.fields) }
        if malformed, !objects.isEmpty { objects[0]["警单状态"] = "不存在的状态" }
        let last = items.last
        let body: [String: Any] = [
            "状态码": 0, "消息": "成功",
            "数据": [list: objects, "还有更多": hasMore, "下一页": ["更新时间起": last?["更新时间"] ?? "", "起始编号": last?.id ?? ""]],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())
    }

    /// The bureau: JSON with pinyin-initial keys under `data.records`; a malformed page has a division
    /// code that is none.
    static func bureauPage(_ items: [SimulatedVersion], hasMore: Bool, malformed: Bool) -> [UInt8] {
        var objects: [[String: String]] = items.map { Dictionary(uniqueKeysWithValues: $0.fields) }
        if malformed, !objects.isEmpty { objects[0]["XZQH"] = "99999X" }
        let last = items.last
        let body: [String: Any] = [
            "code": 0, "msg": "成功",
            "data": ["records": objects, "hasMore": hasMore, "nextTime": last?["GXSJ"] ?? "", "nextId": last?.id ?? ""],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())
    }

    /// The 120 export's columns, in order.
    static let ambulanceColumns = [
        "HJBH", "HJSJ", "HJYY", "FJ", "HZRS", "HZQK", "XCDZ", "XZQH", "JD", "WD", "LDHM", "GLJDBH", "ZT", "PCSJ", "DDSJ", "SYSJ",
        "SDYY", "GXSJ",
    ]

    /// 120: CSV rows (RFC 4180 quoting) under a header.
    static func ambulanceCSV(_ items: [SimulatedVersion], malformed: Bool) -> [UInt8] {
        func quoted(_ value: String) -> String {
            value.contains(where: { ",\"\n".contains($0) }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
        }
        var lines = [ambulanceColumns.joined(separator: ",")]
        for (n, item) in items.enumerated() {
            lines.append(
                ambulanceColumns.map { column in
                    quoted(malformed && n == 0 && column == "HJSJ" ? "2026-02-30 08:00:00" : item[column] ?? "")
                }.joined(separator: ","))
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// Weather: an Atom index of CAP documents.
    static func capFeed(_ entries: [(seq: Int, id: String)], next: Int) -> [UInt8] {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" next=\"\(next)\">\n"
        xml += "  <title>Simulated CAP feed</title>\n"
        for entry in entries {
            xml += "  <entry><id>\(entry.seq)</id><title>\(entry.id)</title><link href=\"/cap/alerts/\(entry.seq).xml\"/></entry>\n"
        }
        return Array((xml + "</feed>\n").utf8)
    }

    /// Weather: one CAP 1.2 document in the Chinese profile.
    static func cap(_ v: SimulatedVersion, malformed: Bool) -> [UInt8] {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"
        for key in ["identifier", "sender", "sent"] { xml += "  <\(key)>\(escape(v[key] ?? ""))</\(key)>\n" }
        xml += "  <status>Actual</status>\n  <msgType>\(v["msgType"] ?? "Alert")</msgType>\n  <scope>Public</scope>\n"
        if let refs = v["references"] { xml += "  <references>\(escape(refs))</references>\n" }
        xml += "  <info>\n    <language>zh-CN</language>\n    <category>Met</category>\n"
        xml += "    <event>\(escape(v["event"] ?? ""))</event>\n    <urgency>Expected</urgency>\n"
        xml += "    <severity>\(malformed ? "Catastrophic" : v["severity"] ?? "")</severity>\n    <certainty>Likely</certainty>\n"
        xml += "    <eventCode><valueName>GB/T 35561</valueName><value>\(v["eventCode"] ?? "")</value></eventCode>\n"
        for key in ["effective", "expires"] { xml += "    <\(key)>\(v[key] ?? "")</\(key)>\n" }
        xml += "    <senderName>\(escape(v["areaDesc"] ?? ""))气象台</senderName>\n"
        for key in ["headline", "description"] { xml += "    <\(key)>\(escape(v[key] ?? ""))</\(key)>\n" }
        xml += "    <area>\n      <areaDesc>\(escape(v["areaDesc"] ?? ""))</areaDesc>\n"
        xml += "      <geocode><valueName>GB/T 2260</valueName><value>\(v["geocode"] ?? "")</value></geocode>\n"
        xml += "    </area>\n  </info>\n</alert>\n"
        return Array(xml.utf8)
    }

    static func escape(_ s: String) -> String { s.xmlEscaped }
}
