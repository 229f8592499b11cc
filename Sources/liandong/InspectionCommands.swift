import ArgumentParser
import Foundation
import LiandongHub
import LiandongModel

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one entity with its alternate values and links, by id or source:external_id.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Entity id (UUID) or source:external_id, e.g. fire-119:JJ3201022026...") var entity: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let runtime = try Runtime(global)
        let view = try await runtime.withPlainHub { try await $0.inspection.entity(entity) }
        guard !output.json else { return try printJSON(view) }
        print("\(view.kind) \(view.id.uuidString.lowercased())  \(view.source):\(view.externalID)")
        print("version \(view.version), source time \(view.sourceTime.canonicalText), mapping \(view.mapping)")
        if let state = view.state { print("state: \(state)") }
        for (key, value) in (view.fields.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            print("  \(key): \(value.readableText)")
        }
        if !view.alternates.isEmpty {
            print("alternate values:")
            for alt in view.alternates {
                print(
                    "  \(alt.field) = \(alt.value.readableText)  (\(alt.source), \(alt.sourceTime.canonicalText), \(alt.reason), \(alt.mapping))")
            }
        }
        for link in view.links {
            let arrow = link.direction == "to" ? "→" : "←"
            print("link \(arrow) \(link.type) \(link.source):\(link.externalID)" + (link.entityID == nil ? " (not yet received)" : ""))
        }
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counts per entity kind and per source, open failures, audit head and a content digest.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let stats = try await Runtime(global).withPlainHub { try await $0.inspection.stats() }
        guard !output.json else { return try printJSON(stats) }
        for (kind, count) in stats.entities.sorted(by: { $0.key < $1.key }) { print("\(kind): \(count)") }
        print("by source: " + stats.sources.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("active warnings: \(stats.activeWarnings)")
        print("alternate values: \(stats.alternateValues), links: \(stats.links), raw payloads: \(stats.rawPayloads)")
        print("mapping failures: open \(stats.failures["open"] ?? 0), replayed \(stats.failures["replayed"] ?? 0), ignored \(stats.failures["ignored"] ?? 0)")
        print("audit head: \(stats.auditHead)")
        print("digest: \(stats.digest)")
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The hash-chained audit trail.", subcommands: [Verify.self, Trace.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the chain; exit 1 naming the first bad entry.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let result = try await Runtime(global).withPlainHub { try await $0.audit.verify() }
            if output.json {
                try printJSON(result)
            } else if let bad = result.firstBad {
                print("audit chain BROKEN at entry \(bad): \(result.problem ?? "")")
            } else {
                print("audit chain verified: \(result.checked) entries, head \(result.headSeq) \(result.headHash)")
            }
            if result.firstBad != nil { throw ExitStatus.problemsFound }
        }
    }

    struct Trace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every change of one entity: source, mapping version, before and after.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Entity id (UUID), source:external_id, or a mapping failure id.") var entity: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let trail = try await Runtime(global).withPlainHub { hub -> [AuditLog.AuditRecord] in
                let id = Int64(entity) != nil ? entity : try await hub.inspection.resolve(entity).id.uuidString.lowercased()
                return try await hub.audit.trail(of: id)
            }
            guard !output.json else { return try printJSON(trail) }
            guard !trail.isEmpty else { throw CouldNotRun("no audit entries for \(entity)") }
            for entry in trail {
                let c = entry.content.objectValue ?? [:]
                var line = "#\(entry.seq) \(entry.at.canonicalText) \(entry.action)"
                if let source = c["source"]?.stringValue { line += " from \(source)" }
                if let mapping = c["mapping"]?.stringValue {
                    line += " via \(mapping)" + (c["mapping_version"]?.scalarText.map { "@v\($0)" } ?? "")
                }
                if let time = c["source_time"]?.stringValue { line += " (source time \(time))" }
                print(line)
                let before = c["before"]?.objectValue ?? [:]
                let after = c["after"]?.objectValue ?? [:]
                for key in Set(before.keys).union(after.keys).sorted() {
                    let old = before[key]?.readableText ?? "∅"
                    let new = after[key]?.readableText ?? "∅"
                    print("    \(key): \(old) → \(new)")
                }
                for key in c.keys.sorted() where !["source", "mapping", "mapping_version", "source_time", "before", "after", "seq", "at", "action", "entity_kind", "entity_id"].contains(key) {
                    print("    \(key): \(c[key]!.readableText)")
                }
            }
        }
    }
}
