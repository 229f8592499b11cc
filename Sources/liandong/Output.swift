import ArgumentParser
import Foundation

/// How a command prints what it found: lines for people, or one JSON document for scripts (`--json`).
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON (sorted keys, ISO 8601 times) instead of text.") var json = false

    /// `value` as JSON, or as `text` prints it.
    func show<Value: Encodable>(_ value: Value, _ text: (Value) throws -> Void) throws {
        if json { try printJSON(value) } else { try text(value) }
    }

    /// One line per row and how many there were (`3 incident(s)`, with `qualifier` after), or the rows
    /// as a JSON array.
    func list<Row: Encodable>(_ rows: [Row], _ noun: String, qualifier: String = "", _ line: (Row) -> String) throws {
        try show(rows) { rows in
            for row in rows { print(line(row)) }
            print("\(rows.count) \(noun)(s)" + qualifier)
        }
    }
}

/// Prints a value as pretty JSON with sorted keys.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// The command could not do its work (exit status 2), for a reason of its own rather than an error
/// of the hub's: said in its words.
struct CouldNotRun: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What `liandong`'s exit status means, the same for every command (`liandong help` lists them).
enum ExitStatus {
    /// The command ran and found something wrong: a broken audit chain, failures a replay or a
    /// mapping test left, streams whose sync failed.
    static let problemsFound = ExitCode(1)
    /// The command could not do its work: the database, a file or an entity it names is not there, a
    /// configuration value is wrong (the message names the file, the key and the fix).
    static let couldNotRun = ExitCode(2)

    static let help = """
        Exit status, for every command: 0 done; 1 done, and found problems (a broken audit chain, \
        failures left after a replay or mapping test, streams whose sync failed); 2 could not run (no \
        database, a missing file or entity, wrong configuration: the message says what and where); \
        64 wrong command line; 128+N a command stopped by signal N before it was done (serve and demo \
        stop gracefully on SIGTERM and SIGINT, and exit 0).
        """
}
