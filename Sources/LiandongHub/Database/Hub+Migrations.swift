import Foundation
import PostgresNIO

extension Hub {
    /// A numbered SQL migration shipped with the hub.
    public struct Migration: Sendable {
        public var number: Int
        public var name: String
        public var sql: String
    }

    /// The migrations in this build, in order.
    public static func migrations() throws -> [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw HubError(.migration, "the Migrations resource folder is missing from the build")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        return try files.map { file in
            guard let number = Int(file.prefix(while: \.isNumber)) else {
                throw HubError(.migration, "migration file \(file) must start with its number")
            }
            let sql = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            return Migration(number: number, name: String(file.dropLast(4)), sql: sql)
        }
    }

    /// Applies every migration not yet applied, each in its own transaction, and returns their names.
    /// Concurrent callers serialise on an advisory lock.
    @discardableResult
    public func migrate() async throws -> [String] {
        let pending = try Self.migrations()
        return try await withTransaction { conn in
            try await conn.guardedQuery("SELECT pg_advisory_xact_lock(4242001)", logger: logger)
            try await conn.guardedQuery(
                """
                CREATE TABLE IF NOT EXISTS schema_migration (
                    number integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<Int>()
            for try await number in try await conn.guardedQuery("SELECT number FROM schema_migration", logger: logger)
                .decode(Int.self)
            {
                applied.insert(number)
            }
            var names: [String] = []
            for migration in pending where !applied.contains(migration.number) {
                do {
                    for statement in Self.statements(in: migration.sql) {
                        try await conn.guardedQuery(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                } catch {
                    throw HubError(.migration, "migration \(migration.name) failed: \(String(reflecting: error))", underlying: error)
                }
                try await conn.guardedQuery(
                    "INSERT INTO schema_migration (number, name) VALUES (\(migration.number), \(migration.name))",
                    logger: logger)
                logger.info("Applied migration", metadata: ["liandong.migration": "\(migration.name)"])
                names.append(migration.name)
            }
            return names
        }
    }

    /// Splits a migration into statements at top-level semicolons. PostgreSQL's extended protocol,
    /// which PostgresNIO speaks, takes one statement per query; `$$` bodies, quotes and `--`
    /// comments are respected.
    static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var chars = Array(sql)[...]
        var inDollar = false
        var inQuote = false
        while let c = chars.first {
            chars = chars.dropFirst()
            if !inQuote, c == "$", chars.first == "$" {
                chars = chars.dropFirst()
                current += "$$"
                inDollar.toggle()
                continue
            }
            if !inDollar, !inQuote, c == "-", chars.first == "-" {
                chars = chars.drop(while: { $0 != "\n" })
                continue
            }
            if !inDollar, c == "'" { inQuote.toggle() }
            if !inDollar, !inQuote, c == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
                continue
            }
            current.append(c)
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }
}
