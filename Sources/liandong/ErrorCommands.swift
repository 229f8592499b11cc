import ArgumentParser
import Foundation
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSync

struct Errors: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mapping failures (quarantine): list, show, replay after a mapping fix, ignore.",
        subcommands: [List.self, ShowFailure.self, Replay.self, Ignore.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open failures grouped by mapping, field path and rule.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this source.") var source: String?
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let groups = try await Runtime(global).withPlainHub { try await $0.quarantine.groups(source: source) }
            try output.list(groups, "group", qualifier: " of open mapping failures") { g in
                "\(g.count)× \(g.mapping)  \(g.path)  [\(g.rule)]  (\(g.source)) ids: \(g.ids.map(String.init).joined(separator: ","))"
            }
        }
    }

    struct ShowFailure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One failure: decoded payload, failures, mapping version.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        func run() async throws {
            let f = try await Runtime(global).withPlainHub { try await $0.quarantine.failure(id) }
            print("failure \(f.id) [\(f.status)]  \(f.source)/\(f.stream)  mapping \(f.mapping)  seen \(f.seenCount)×")
            print("payload \(f.rawPayloadID) \(f.payloadName)  \(f.contentType ?? "")  declared encoding: \(f.declaredEncoding ?? "none")")
            print(f.recordIndex < 0 ? "the whole document failed" : "record \(f.recordIndex)" + (f.externalID.map { " (\($0))" } ?? ""))
            if let reason = f.decisionReason { print("decision: \(reason)") }
            for failure in f.failures { print("  \(failure)") }
            print("--- payload (decoded) ---")
            // As the bytes were decoded when they arrived; UTF-8 when they could not be.
            let text = (try? TextDecoding.decode(f.body, declared: f.detectedEncoding ?? f.declaredEncoding, fallback: .utf8).text)
                ?? "(\(f.body.count) bytes that do not decode; first bytes: \(f.body.prefix(32).hexString))"
            print(text.count > 4000 ? String(text.prefix(4000)) + "\n… (\(text.count) characters)" : text)
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-run quarantined payloads through the current mapping.",
            discussion: "Use --dry-run first to see what would change.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Failure ids.") var ids: [Int64] = []
        @Flag(help: "Every open failure.") var all = false
        @Flag(name: .customLong("dry-run"), help: "Show what would change; change nothing.") var dryRun = false
        @OptionGroup var decision: DecisionOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if ids.isEmpty == !all { throw ValidationError("give failure ids or --all") }
        }

        func run() async throws {
            let runtime = try Runtime(global)
            let catalog = try runtime.catalog()
            let outcomes = try await runtime.withHub { hub in
                let targets = all ? try await hub.quarantine.openIDs() : ids
                return try await SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger).replay(targets, dryRun: dryRun, by: decision.actor)
            }
            guard !output.json else { return try printJSON(outcomes) }
            for o in outcomes {
                print("failure \(o.failureID): \(dryRun ? "would be " : "")\(o.result)")
                for change in o.changes { print("  \(dryRun ? "would " : "")\(change)") }
                for failure in o.failures { print("  still: \(failure)") }
            }
            if outcomes.contains(where: { !$0.failures.isEmpty }) { throw ExitStatus.problemsFound }
        }
    }

    struct Ignore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a failure ignored, with the reason (audited).")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @Option(help: "Why it is ignored (written into the audit entry with your login).") var reason: String
        func run() async throws {
            let actor = ActingUser.commandLine(reason: reason)
            try await Runtime(global).withPlainHub { try await $0.quarantine.ignore(id, by: actor) }
            print("failure \(id) ignored")
        }
    }
}

struct MappingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mapping", abstract: "Work on mappings.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a source's mapping on a file; print the canonical records or the failures (exit 1).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The source whose mapping to run.") var source: String
        @Argument var file: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let runtime = try Runtime(global)
            let adapter = try runtime.adapters().definition(source)
            let mapping = try runtime.catalog().mapping(named: adapter.streams[0].mapping)
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
            let payload = PayloadMapper(mapping: mapping).map(.init(name: file, contentType: nil, body: bytes))
            if output.json {
                try printJSON(MappingTestReport(payload))
            } else {
                print("mapping \(mapping.ref), encoding \(payload.detectedEncoding ?? "?")")
                for record in payload.records {
                    print("record \(record.externalID) (\(record.kind), source time \(record.sourceTime.canonicalText))")
                    print("  " + record.canonicalFieldsJSON)
                    for link in record.links { print("  link \(link.type) → \(link.targetSource):\(link.targetExternalID)") }
                }
                for failed in payload.failures {
                    switch failed.scope {
                    case .document: print("document failed:")
                    case .record(let index): print("record \(index) failed" + (failed.externalID.map { " (\($0))" } ?? "") + ":")
                    }
                    for failure in failed.failures { print("  \(failure)") }
                }
            }
            if !payload.failures.isEmpty { throw ExitStatus.problemsFound }
        }
    }
}

/// `mapping test --json` output.
struct MappingTestReport: Encodable {
    struct Record: Encodable {
        var externalID: String
        var kind: String
        var sourceTime: String
        var fields: FieldValue
        var links: [String]
    }
    struct Failed: Encodable {
        var index: Int
        var externalID: String?
        var failures: [MappingFailure]
    }
    var mapping: String
    var encoding: String?
    var records: [Record]
    var failures: [Failed]

    init(_ payload: LiandongHub.ReceivedPayload) {
        mapping = payload.mapping.description
        encoding = payload.detectedEncoding
        records = payload.records.map {
            Record(
                externalID: $0.externalID, kind: $0.kind.rawValue, sourceTime: $0.sourceTime.canonicalText, fields: .object($0.fields),
                links: $0.links.map { "\($0.type) \($0.targetSource):\($0.targetExternalID)" })
        }
        failures = payload.failures.map { Failed(index: $0.recordIndex, externalID: $0.externalID, failures: $0.failures) }
    }
}

struct Coords: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Coordinate tools.", subcommands: [Convert.self])

    struct Convert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Convert a point between WGS-84, GCJ-02 and BD-09 (9 decimals).")
        @OptionGroup var global: GlobalOptions
        @Option var from: CoordinateSystem
        @Option var to: CoordinateSystem
        @Argument var latitude: Double
        @Argument var longitude: Double
        func run() async throws {
            let p = CoordinateConverter.convert(.init(latitude: latitude, longitude: longitude), from: from, to: to)
            print(String(format: "%.9f %.9f", p.latitude, p.longitude))
        }
    }
}

extension CoordinateSystem: ExpressibleByArgument {}
