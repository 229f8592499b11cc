import Foundation
import LiandongModel
import PostgresNIO

extension Hub {
    /// Makes or evolves the table of every declared kind, in one transaction: a new kind gets the
    /// shared columns of every kind's table and a typed, indexed column per indexed field (and, for
    /// a report, the index identity reads its neighbours in time by); a field newly indexed gets its
    /// column, one no longer indexed loses it (its values stay in `data`). A field indexed as another
    /// type is refused: the column would read what it holds differently. A kind no longer declared
    /// keeps its table and rows. Each declaration applied is kept in `entity_kind`.
    func storeKinds(_ declared: [KindDeclaration]) async throws {
        try await withTransaction { conn in
            try await conn.guardedQuery("SELECT pg_advisory_xact_lock(4242002)", logger: logger)
            var stored: [String: KindDeclaration] = [:]
            for try await (kind, text) in try await conn.guardedQuery("SELECT kind, declaration::text FROM entity_kind", logger: logger)
                .decode((String, String).self)
            {
                stored[kind] = try JSONDecoder().decode(KindDeclaration.self, from: Data(text.utf8))
            }
            for declaration in declared where stored[declaration.kind.rawValue] != declaration {
                let statements =
                    try stored[declaration.kind.rawValue].map { try Self.evolving($0, to: declaration) }
                    ?? Self.creating(declaration)
                if stored[declaration.kind.rawValue] == nil {
                    let exists = try await conn.guardedQuery("SELECT to_regclass(\(declaration.kind.rawValue))::text", logger: logger)
                    for try await (name) in exists.decode(String?.self) where name != nil {
                        throw HubError(
                            .invalidState, "kind '\(declaration.kind)': a table of that name exists already and is not a declared kind; name the kind otherwise")
                    }
                }
                for statement in statements { try await conn.guardedQuery(PostgresQuery(unsafeSQL: statement), logger: logger) }
                let json = String(decoding: try JSONEncoder().encode(declaration), as: UTF8.self)
                try await conn.guardedQuery(
                    """
                    INSERT INTO entity_kind (kind, declaration) VALUES (\(declaration.kind.rawValue), \(json)::jsonb)
                    ON CONFLICT (kind) DO UPDATE SET declaration = EXCLUDED.declaration, updated_at = now()
                    """, logger: logger)
                logger.notice("Record kind stored", metadata: ["liandong.kind": "\(declaration.kind)"])
            }
        }
    }

    /// The kinds this database holds: the built-in ones and every declared kind it has a table for.
    func storedKinds() async throws -> RecordKinds {
        guard try await scalar("SELECT (to_regclass('entity_kind') IS NOT NULL)::int") == 1 else { return .builtIn }
        var declared: [KindDeclaration] = []
        for try await (text) in try await rows("SELECT declaration::text FROM entity_kind ORDER BY kind", logger: logger).decode(String.self) {
            declared.append(try JSONDecoder().decode(KindDeclaration.self, from: Data(text.utf8)))
        }
        return RecordKinds(declared: declared)
    }

    /// The column an indexed field is stored as: its SQL type and the expression reading it from `data`.
    static func column(_ field: KindDeclaration.Field) -> String {
        let value = "data ->> '\(field.name)'"
        let (type, expression) =
            switch field.type {
            case .text: ("text", value)
            case .number: ("double precision", "hub_try_number(\(value))")
            case .time: ("timestamptz", "hub_try_time(\(value))")
            case .boolean: ("boolean", "hub_try_boolean(\(value))")
            }
        return "\"\(field.name)\" \(type) GENERATED ALWAYS AS (\(expression)) STORED"
    }

    /// The statements that make `declaration`'s table.
    static func creating(_ declaration: KindDeclaration) -> [String] {
        // Names are quoted (a field may be called `order` or `to`); the declaration checked their form.
        let kind = declaration.kind.rawValue
        let indexed = declaration.fields.filter(\.indexed)
        var statements = [
            """
            CREATE TABLE "\(kind)" (
                id              uuid PRIMARY KEY,
                source_system   text NOT NULL,
                external_id     text NOT NULL,
                version         integer NOT NULL,
                source_time     timestamptz NOT NULL,
                content_hash    bytea NOT NULL,
                data            jsonb NOT NULL,
                mapping         text NOT NULL,
                mapping_version integer NOT NULL,
                raw_payload_id  bigint REFERENCES raw_payload (id),
                created_at      timestamptz NOT NULL DEFAULT now(),
                updated_at      timestamptz NOT NULL DEFAULT now(),
            \(indexed.map { "    " + column($0) + ",\n" }.joined())    UNIQUE (source_system, external_id)
            )
            """
        ]
        statements += indexed.map { "CREATE INDEX \"\(kind)_\($0.name)\" ON \"\(kind)\" (\"\($0.name)\")" }
        if declaration.reportsIncidents {
            statements.append("CREATE INDEX \"\(kind)_report_time\" ON \"\(kind)\" (hub_time(data ->> 'reported_at'))")
        }
        return statements
    }

    /// The statements that take the table of `old` to `new`; throws for a change that would read an
    /// indexed field's values differently.
    static func evolving(_ old: KindDeclaration, to new: KindDeclaration) throws -> [String] {
        let kind = new.kind.rawValue
        let before = Dictionary(uniqueKeysWithValues: old.fields.filter(\.indexed).map { ($0.name, $0) })
        let after = Dictionary(uniqueKeysWithValues: new.fields.filter(\.indexed).map { ($0.name, $0) })
        var statements: [String] = []
        for (name, field) in after.sorted(by: { $0.key < $1.key }) {
            if let earlier = before[name] {
                guard earlier.type == field.type else {
                    throw HubError(
                        .invalidState,
                        "kind '\(kind)': field '\(name)' is stored as \(earlier.type) and declared \(field.type) now; "
                            + "that change would read its values differently. Declare the new type under a new field name (the old values stay in data)")
                }
                continue
            }
            statements += [
                "ALTER TABLE \"\(kind)\" ADD COLUMN \(column(field))", "CREATE INDEX \"\(kind)_\(name)\" ON \"\(kind)\" (\"\(name)\")",
            ]
        }
        for name in before.keys.sorted() where after[name] == nil {
            statements.append("ALTER TABLE \"\(kind)\" DROP COLUMN \"\(name)\"")
        }
        if new.reportsIncidents, !old.reportsIncidents {
            statements.append("CREATE INDEX IF NOT EXISTS \"\(kind)_report_time\" ON \"\(kind)\" (hub_time(data ->> 'reported_at'))")
        }
        return statements
    }
}
