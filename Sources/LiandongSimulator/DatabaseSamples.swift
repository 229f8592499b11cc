import Foundation
import LiandongAdapterKit
import Logging
import PostgresNIO

/// A simulated agency database made from a `database` folder's samples: each stream's table (its
/// `path`) created in a database of the caller's and filled with the rows of
/// `samples/<stream>.json` (`{"rows": [...]}`, as the transport hands them to the mapping), and the
/// receiving table with the exchange columns if the agency takes deliveries. Column types follow
/// the sample values (numbers `numeric`, the update-time column `timestamp`, the rest `text`), so
/// the transport compares the cursor as it would against the agency's own tables; the receiving
/// table keeps bodies as `jsonb` or `xml` by the folder's format. What was there is replaced. `demo`
/// and `adapter check` read a database folder through it, and spoil a row of it (`spoil`).
public enum DatabaseSamples {
    /// Why a folder's samples cannot become tables.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Creates and fills the tables of `definition`'s streams in the database `connection` reaches.
    /// Returns the rows written per table.
    @discardableResult
    public static func load(_ definition: AdapterDefinition, into connection: PostgresConnection.Configuration, logger: Logger) async throws -> [String: Int] {
        var written: [String: Int] = [:]
        try await withConnection(connection, logger: logger) { conn in
            for stream in definition.streams {
                let name = stream.path ?? stream.name
                let table = try quoted(name)
                let rows = try definition.samples(of: stream).flatMap(Self.rows)
                let time = (stream.next ?? definition.paging.next)["time"]
                let columns = Self.columns(of: rows, timeColumn: time)
                guard !columns.isEmpty else { throw Problem(description: "samples/\(stream.name).json has no rows to make \(name) of") }
                try await conn.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(table)"), logger: logger)
                let definitions = try columns.map { "\(try quoted($0.name)) \($0.type)" }.joined(separator: ", ")
                try await conn.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (\(definitions))"), logger: logger)
                let json = String(decoding: try JSONSerialization.data(withJSONObject: rows), as: UTF8.self)
                var binds = PostgresBindings()
                binds.append(json)
                try await conn.query(
                    PostgresQuery(unsafeSQL: "INSERT INTO \(table) SELECT * FROM json_populate_recordset(NULL::\(table), $1::json)", binds: binds),
                    logger: logger)
                written[name] = rows.count
            }
            if let receives = definition.receives {
                let inbox = try quoted(receives.path)
                let receipt = receives.receipt == "id" ? "" : ", \(try quoted(receives.receipt)) text NOT NULL DEFAULT 'SIM-' || gen_random_uuid()"
                // The body in its format's type, so that a malformed document is refused as a real table would.
                let body = ["json": "jsonb", "xml": "xml"][receives.answer.rawValue] ?? "text"
                try await conn.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(inbox)"), logger: logger)
                try await conn.query(
                    PostgresQuery(
                        unsafeSQL: """
                            CREATE TABLE \(inbox) (id bigserial PRIMARY KEY, idempotency_key text NOT NULL UNIQUE,
                                kind text NOT NULL, content_type text NOT NULL, body \(body) NOT NULL,
                                received_at timestamptz NOT NULL DEFAULT now()\(receipt))
                            """), logger: logger)
            }
        }
        return written
    }

    /// Adds to `stream`'s table a row with no key, ordered before every other row: a copy of the
    /// earliest row, a second earlier, its id column empty (a row half-written by the agency's side).
    /// The hub quarantines it at the id's path (`required`) and reads the rest. `demo` and
    /// `adapter check` spoil a table this way, as the HTTP simulators spoil a record.
    public static func spoil(
        _ definition: AdapterDefinition, stream: SourceStream, in connection: PostgresConnection.Configuration, logger: Logger
    ) async throws {
        let paging = stream.next ?? definition.paging.next
        guard let time = paging["time"], let id = paging["id"] else {
            throw Problem(description: "stream \(stream.name) names no time and id columns (next) to spoil a row by")
        }
        let table = try quoted(stream.path ?? stream.name)
        let (timeColumn, idColumn) = (try quoted(time), try quoted(id))
        var binds = PostgresBindings()
        binds.append(time)
        binds.append(id)
        try await withConnection(connection, logger: logger) { conn in
            try await conn.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(table)
                        SELECT (json_populate_record(NULL::\(table), (to_jsonb(r) || jsonb_build_object(
                            $1::text, r.\(timeColumn) - interval '1 second', $2::text, NULL))::json)).*
                        FROM \(table) r WHERE r.\(timeColumn) IS NOT NULL ORDER BY r.\(timeColumn), r.\(idColumn) LIMIT 1
                        """, binds: binds), logger: logger)
        }
    }

    /// Runs `body` on a connection of its own, closed afterwards however `body` ends.
    private static func withConnection(
        _ configuration: PostgresConnection.Configuration, logger: Logger, _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let conn = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await body(conn)
        } catch {
            try? await conn.close()
            throw error
        }
        try await conn.close()
    }

    /// The rows of one sample file.
    static func rows(_ file: URL) throws -> [[String: Any]] {
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: file))
        guard let rows = (document as? [String: Any])?["rows"] as? [[String: Any]] else {
            throw Problem(description: "\(file.lastPathComponent) is not {\"rows\": [...]}, as the database transport hands a table's rows")
        }
        return rows
    }

    /// Every column the rows have, in the order first seen, with the type its values call for.
    static func columns(of rows: [[String: Any]], timeColumn: String?) -> [(name: String, type: String)] {
        var names: [String] = []
        for row in rows {
            for key in row.keys.sorted() where !names.contains(key) { names.append(key) }
        }
        return names.map { name in
            let values = rows.compactMap { $0[name] }.filter { !($0 is NSNull) }
            let numeric = !values.isEmpty && values.allSatisfy { $0 is NSNumber && !($0 is Bool) }
            return (name, name == timeColumn ? "timestamp" : numeric ? "numeric" : "text")
        }
    }

    /// A table or column name as the transport reads it (`DatabaseSource.quoted`).
    static func quoted(_ name: String) throws -> String {
        guard let quoted = DatabaseSource.quoted(name) else {
            throw Problem(description: "'\(name)' is not a table or column name the database transport takes")
        }
        return quoted
    }
}
