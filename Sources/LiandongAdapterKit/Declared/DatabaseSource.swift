import Foundation
import LiandongModel
import Logging
import PostgresNIO
import Synchronization

/// An agency reached through a table of another database over the PostgreSQL protocol (the shared
/// intermediate databases of government exchange platforms: KingbaseES, openGauss, HighGo speak
/// it). A stream's `path` is its table; each page is the rows after the cursor's update time and id
/// (the columns `paging.next` names), in that order, as a JSON document `{"rows": [...]}` for the
/// mapping. Deliveries are rows inserted into the `receives.path` table, whose `idempotency_key`
/// column is unique: a repeated key inserts nothing and answers the first row's receipt column.
/// One connection per page or delivery: there is no pool to run between syncs.
public struct DatabaseSource: SourceAdapter, TargetAdapter {
    public let definition: AdapterDefinition
    let connection: PostgresConnection.Configuration
    let pageSize: Int
    let paging: Paging
    let logger: Logger
    /// Column types once looked up, by `table.column`: the catalog is asked once, not every page.
    let columnTypes = ColumnTypes()

    public init(
        definition: AdapterDefinition, connection: PostgresConnection.Configuration, pageSize: Int? = nil, overlap: TimeInterval? = nil,
        logger: Logger
    ) {
        self.definition = definition
        self.connection = connection
        self.pageSize = pageSize ?? definition.paging.pageSize
        var paging = definition.paging
        paging.overlap = overlap ?? paging.overlap
        self.paging = paging
        self.logger = logger
    }

    public var system: SourceSystemID { definition.system }
    public var streams: [SourceStream] { definition.streams }
    public var receiver: (any TargetAdapter)? { definition.receives == nil ? nil : self }

    /// A table or column name, checked and quoted: `schema.table` and plain names only.
    func identifier(_ name: String) throws -> String {
        guard let quoted = Self.quoted(name) else {
            throw AdapterError(.unsupported, system: system, "'\(name)' is not a table or column name the database transport takes")
        }
        return quoted
    }

    /// `name` quoted as the transport reads tables and columns (`"ST_RIVER_R"`, `"zjk"."ZJK_110_JJD"`),
    /// nil unless it is a plain name or `schema.table`.
    public static func quoted(_ name: String) -> String? {
        guard name.range(of: #"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"#, options: .regularExpression) != nil else { return nil }
        return name.split(separator: ".").map { "\"\($0)\"" }.joined(separator: ".")
    }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        let table = try identifier(stream.path ?? stream.name)
        // Paging requires both columns of a database stream: the stream's own, else the folder's.
        var paging = self.paging
        paging.next = stream.next ?? paging.next
        let (timeColumn, idColumn) = (paging.next["time"] ?? "", paging.next["id"] ?? "")
        let time = try identifier(timeColumn)
        let id = try identifier(idColumn)
        let position = UpdateTimeCursor(cursor).map { $0.settled ? $0.rewound(by: paging.overlap) : $0 }
        let rows: [String] = try await withConnection { connection in
            // The columns' own types, so that the cursor's text compares as them (and a (time, id)
            // index serves the order). A row without its update time cannot be placed: it is left out.
            let timeType = try await type(of: timeColumn, in: table, connection)
            let idType = try await type(of: idColumn, in: table, connection)
            let select = "SELECT row_to_json(t)::text FROM \(table) t WHERE t.\(time) IS NOT NULL"
            let order = " ORDER BY t.\(time), t.\(id) LIMIT \(pageSize)"
            let query: PostgresQuery =
                if let position, !position.id.isEmpty {
                    PostgresQuery(
                        unsafeSQL: select + " AND (t.\(time), t.\(id)) > ($1::text::\(timeType), $2::text::\(idType))" + order,
                        binds: try Self.binds(position.time, position.id))
                } else if let position {
                    PostgresQuery(unsafeSQL: select + " AND t.\(time) >= $1::text::\(timeType)" + order, binds: try Self.binds(position.time))
                } else {
                    PostgresQuery(unsafeSQL: select + order)
                }
            var found: [String] = []
            for try await (row) in try await connection.query(query, logger: logger).decode(String.self) { found.append(row) }
            return found
        }
        let body = Array(("{\"rows\": [" + rows.joined(separator: ",\n") + "]}").utf8)
        let payload = FetchedPayload(name: stream.path ?? stream.name, contentType: "application/json; charset=utf-8", body: body)
        guard let page = PageReader.document(payload, format: .json) else { return SourcePage(payloads: [payload], cursor: cursor, hasMore: false) }
        var rowPaging = paging
        rowPaging.records = "rows"
        rowPaging.nextFromLastRecord = true
        rowPaging.more = .fullPage
        let (next, hasMore) = rowPaging.next(after: cursor, page: page, requested: "", link: nil, pageSize: pageSize)
        return SourcePage(payloads: rows.isEmpty ? [] : [payload], cursor: next, hasMore: hasMore)
    }

    public func push(_ message: OutboundMessage) async throws -> DeliveryReceipt {
        guard let receives = definition.receives else {
            throw AdapterError(.unsupported, system: system, "takes no deliveries (its adapter.yaml has no 'receives')")
        }
        let table = try identifier(receives.path)
        let receipt = try identifier(receives.receipt)
        let body = String(decoding: message.body, as: UTF8.self)
        let reference: String? = try await withConnection { connection in
            // The body as the table keeps it: a json or xml column refuses a malformed document.
            let type = try await type(of: "body", in: table, connection)
            let sql = """
                WITH inserted AS (
                    INSERT INTO \(table) (idempotency_key, kind, content_type, body) VALUES ($1, $2, $3, $4::text::\(type))
                    ON CONFLICT (idempotency_key) DO NOTHING RETURNING \(receipt)::text
                )
                SELECT * FROM inserted UNION ALL SELECT \(receipt)::text FROM \(table) WHERE idempotency_key = $1 LIMIT 1
                """
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: sql, binds: try Self.binds(message.idempotencyKey, message.kind.rawValue, message.contentType, body)),
                logger: logger)
            for try await (value) in rows.decode(String?.self) { return value ?? "" }
            return nil
        }
        // No row: another delivery of the same key is inserting it right now; the next attempt finds it.
        guard let reference else {
            throw AdapterError(.unavailable, system: system, "the insert into \(receives.path) met a concurrent one with its key")
        }
        guard !reference.isEmpty else {
            throw AdapterError(.refused, system: system, "the row inserted into \(receives.path) has no '\(receives.receipt)'")
        }
        return DeliveryReceipt(reference: reference)
    }

    /// The SQL type of `column` of `table` (an already quoted name), as the catalog writes it; `text` if unknown.
    func type(of column: String, in table: String, _ connection: PostgresConnection) async throws -> String {
        if let known = columnTypes["\(table).\(column)"] { return known }
        var type = "text"
        let rows = try await connection.query(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = \(table)::regclass AND attname = \(column)",
            logger: logger)
        for try await (name) in rows.decode(String.self) { type = name }
        columnTypes["\(table).\(column)"] = type
        return type
    }

    /// The column types an adapter has looked up, shared by its copies.
    final class ColumnTypes: Sendable {
        private let types = Mutex<[String: String]>([:])
        subscript(_ key: String) -> String? {
            get { types.withLock { $0[key] } }
            set { types.withLock { $0[key] = newValue } }
        }
    }

    static func binds(_ values: String...) throws -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        return binds
    }

    /// Runs `body` on a connection of its own, closed afterwards; a failure to connect or of the
    /// statement is an `AdapterError` (unreachable, or refused for what the database rejected).
    private func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: self.connection, id: 1, logger: logger)
        } catch {
            throw AdapterError(.unreachable, system: system, "the database could not be reached (\(String(reflecting: error).prefix(200)))", underlying: error)
        }
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch let error as PSQLError {
            try? await connection.close()
            let code = error.serverInfo?[.sqlState] ?? ""
            // Class 08 is a lost connection, 53 and 57 a server out of resources or shutting down: worth a retry.
            let transient = code.hasPrefix("08") || code.hasPrefix("53") || code.hasPrefix("57") || error.code == .serverClosedConnection
            throw AdapterError(
                transient ? .unavailable : .refused, system: system,
                "the database answered \(code.isEmpty ? "an error" : "SQLSTATE \(code)"): \(error.serverInfo?[.message] ?? "\(error.code)")",
                underlying: error)
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
