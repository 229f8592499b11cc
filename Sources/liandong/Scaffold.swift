/// The files `adapter new` writes for an agency reached by `transport` with pages in `format`: a
/// commented `adapter.yaml`, a mapping and a sample page that agree with each other, so that the new
/// folder passes `adapter check` before the integrator edits it to the agency's real pages.
struct Scaffold {
    let system: String
    let transport: String
    let format: String

    init?(system: String, transport: String, format: String) {
        guard ["http", "folder", "database"].contains(transport), ["json", "xml", "csv"].contains(format) else { return nil }
        // A table's rows are read as JSON whatever the page format asked for.
        self.format = transport == "database" ? "json" : format
        self.system = system
        self.transport = transport
    }

    /// A folder of JSON takes JSON-lines files, one record a line.
    var documentFormat: String { transport == "folder" && format == "json" ? "json-lines" : format }
    var `extension`: String { documentFormat == "json-lines" ? "jsonl" : format }

    /// Three records with the fields the mapping reads.
    static let records: [[(String, String)]] = [
        [("id", "R0001"), ("title", "东城区某路积水"), ("content", "市民反映道路积水约三十厘米，车辆通行困难。"), ("address", "北京市东城区某路1号"),
         ("areaCode", "110101"), ("lat", "39.928800"), ("lon", "116.416000"), ("reportTime", "2026-11-18 19:07:45"), ("updateTime", "2026-11-18 19:07:45")],
        [("id", "R0002"), ("title", "黄浦区某街道树木倒伏"), ("content", "大风导致行道树倒伏，压住一辆小客车，无人受伤。"), ("address", "上海市黄浦区某街道2号"),
         ("areaCode", "310101"), ("lat", "31.231700"), ("lon", "121.484600"), ("reportTime", "2026-11-18 19:20:03"), ("updateTime", "2026-11-18 19:21:10")],
        [("id", "R0003"), ("title", "天河区某小区停电"), ("content", "小区整栋停电，电梯内有人被困，已联系物业。"), ("address", "广州市天河区某小区3栋"),
         ("areaCode", "440106"), ("lat", "23.124600"), ("lon", "113.361200"), ("reportTime", "2026-11-18 19:32:40"), ("updateTime", "2026-11-18 19:35:02")],
    ]

    var recordsPath: String {
        if transport == "database" { return "rows" }
        return switch documentFormat {
        case "json": "data.items"
        case "json-lines": "line"
        case "xml": "list.item"
        default: "row"
        }
    }

    var paging: String {
        if transport == "folder" {
            return """
                paging:
                  page_size: 1000               # lines (or files) per page: one ingest transaction
                """
        }
        if transport == "database" {
            return """
                paging:
                  page_size: 500                # rows per page: one ingest transaction
                  next: {time: updateTime, id: id}  # the columns of the update time and the id, read in that order
                  overlap: 10s                  # once caught up, read this far back again (late commits)
                """
        }
        let (next, more): (String, String) =
            switch format {
            case "json": ("next: {time: data.next.time, id: data.next.id}", "more: {path: data.hasMore, equals: \"true\"}")
            case "xml": ("next: {time: list.@nextTime, id: list.@nextId}", "more: {path: list.@hasMore, equals: \"1\"}")
            default: ("records: row                    # CSV has no room for paging: the last row says where to go on\n  next_from: last-record\n  next: {time: updateTime, id: id}", "more: full-page                 # a full page means ask again")
            }
        return """
            paging:
              cursor: update-time             # update-time (time|id) | token | page | link (the Link header)
              page_size: 100
              # Query parameters of every list request: {page_size}, and the cursor's parts {time} {id}
              # ({token}, {page}), each left out while empty.
              query: {size: "{page_size}", updatedAfter: "{time}", afterId: "{id}"}
              \(next)
              \(more)
              overlap: 10s                    # once caught up, read this far back again (late commits, clocks ahead)
            """
    }

    var adapter: String {
        let path =
            switch transport {
            case "folder": "\"*.\(self.extension)\"        # the files of this stream in the drop folder"
            case "database": "records                  # the table (or schema.table); each page is {\"rows\": [...]}"
            default: "/api/records              # the list's URL path"
            }
        let receiving =
            transport == "database"
            ? """

                # If the hub delivers to it: rows inserted into an exchange table with the columns
                # idempotency_key (unique), kind, content_type, body (text, json or xml).
                # receives:
                #   path: hub_delivery
                #   receipt: id                 # the column answered as the receipt
                """
            : transport == "folder" ? "" : """

            auth:
              type: none                      # none | bearer (token_env) | basic (user_env, password_env)
                                              # | hmac (app_key_env, secret_env; sign, digest, encoding, timestamp, headers)
            # If the hub delivers to it (Mappings/policies/sharing.yaml grants what):
            # receives:
            #   path: /api/inbound/{kind}     # {kind}: the entity kind delivered
            #   receipt: data.receiptNo       # where its answer names its own reference
            #   reason: message               # where a refusal says why
            """
        return """
            # \(system): one line on what the agency system is (edit me).
            # Every key: docs/adding-a-source.md. Check the folder: liandong adapter check \(system)
            # Serve its samples as the agency would: liandong simulate \(system)
            system: \(system)
            transport: \(transport)
            format: \(documentFormat)
            encoding: utf-8                   # the charset of pages that declare none (gb18030 for GBK)
            streams:
              - name: records                 # names its cursor and its samples (samples/records.\(self.extension))
                mapping: \(system)/record      # Mappings/\(system)/record.yaml
                path: \(path)
            \(paging)\(receiving)

            """
    }

    var mapping: String {
        let time = "transforms: [{time: {pattern: \"yyyy-MM-dd HH:mm:ss\", zone: Asia/Shanghai}}]"
        return """
            # \(system) records (edit me): the mapping language is in docs/mapping-language.md.
            # Try it on a page: liandong mapping test --source \(system) Adapters/\(system)/samples/records.\(self.extension)
            version: 1
            source: \(system)
            entity: exchange_report           # the kind its records are: a built-in one, or one declared in Mappings/kinds/
            document:
              format: \(documentFormat)
              encoding: utf-8
              records: \(recordsPath)
            id: id
            source_time:
              path: updateTime
              \(time)
            fields:
              report_no: {path: id, required: true}
              title: {path: title, transforms: [trim]}
              description: {path: content}
              address: {path: address, transforms: [trim]}
              division_code: {path: areaCode, transforms: [division]}
              location: {lat: lat, lon: lon, transforms: [{coordinates: {crs: wgs84}}]}
              reported_at:
                path: reportTime
                \(time)

            """
    }

    var sample: String {
        let records = Self.records
        if transport == "database" {
            return "{\"rows\": [\n  " + records.map { "{" + $0.map { "\"\($0.0)\": \"\($0.1)\"" }.joined(separator: ", ") + "}" }.joined(separator: ",\n  ") + "\n]}\n"
        }
        let last = records.last!
        func value(_ record: [(String, String)], _ name: String) -> String { record.first { $0.0 == name }!.1 }
        func json(_ record: [(String, String)]) -> String {
            "{" + record.map { "\"\($0.0)\": \"\($0.1)\"" }.joined(separator: ", ") + "}"
        }
        switch documentFormat {
        case "json":
            return """
                {"code": 0, "data": {"hasMore": false, "next": {"time": "\(value(last, "updateTime"))", "id": "\(value(last, "id"))"},
                 "items": [
                  \(records.map(json).joined(separator: ",\n  "))
                 ]}}

                """
        case "json-lines":
            return records.map(json).joined(separator: "\n") + "\n"
        case "xml":
            let items = records.map { record in
                "  <item>" + record.map { "<\($0.0)>\($0.1)</\($0.0)>" }.joined() + "</item>"
            }
            return """
                <?xml version="1.0" encoding="UTF-8"?>
                <list hasMore="0" nextTime="\(value(last, "updateTime"))" nextId="\(value(last, "id"))">
                \(items.joined(separator: "\n"))
                </list>

                """
        default:
            let header = records[0].map(\.0).joined(separator: ",")
            return ([header] + records.map { $0.map(\.1).joined(separator: ",") }).joined(separator: "\r\n") + "\r\n"
        }
    }
}
