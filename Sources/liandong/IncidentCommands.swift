import ArgumentParser
import Foundation
import LiandongHub
import LiandongModel
import LiandongSync

/// `liandong incidents`: the incidents, their files, and every identity decision admins take on them.
struct Incidents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "Incidents: the events the reports of every agency were linked into, their link candidates and conflicts.",
        subcommands: [List.self, ShowIncident.self, Split.self, Merge.self, Candidates.self, Conflicts.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List incidents, newest first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only incidents that are not closed.") var open = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let incidents = try await Runtime(global).withPlainHub { try await $0.incidents.list(openOnly: open) }
            try output.list(incidents, "incident") { i in
                let conflicts = i.openConflicts > 0 ? "  ⚠ \(i.openConflicts) conflict(s)" : ""
                return "#\(i.no)  \(i.reportedAt?.canonicalText ?? "-")  \(i.category ?? "-")/\(i.incidentType ?? "-")  \(i.status ?? "-")  "
                    + "\(i.address ?? "")  [\(i.reports.joined(separator: ", "))]\(conflicts)"
            }
        }
    }

    struct ShowIncident: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "The incident's file (一事一档): reports and links, fields with sources and alternates, conflicts, audit.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Incident number, id, or one of its reports as source:external_id.") var incident: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let file = try await Runtime(global).withPlainHub { try await $0.incidents.file(incident) }
            try output.show(file, Self.describe)
        }

        /// The file for people, section by section.
        static func describe(_ file: IncidentStore.IncidentFile) {
            print("incident #\(file.no)  \(file.id.uuidString.lowercased())  version \(file.version)")
            if let into = file.mergedInto { print("merged into \(into.uuidString.lowercased())") }
            print("reports:")
            for r in file.reports {
                let score = (r.score?.objectValue?["total"]).map { ", score \($0.readableText)" } ?? ""
                print("  \(r.report)  (\(r.kind); linked by \(r.reason)\(score), \(r.linkedAt.canonicalText))")
            }
            print("fields:")
            for f in file.fields {
                print("  \(f.name): \(f.value.readableText)  ← \(f.report ?? "-") [\(f.rule ?? "-")]")
                for alt in f.alternates {
                    print("      alternate \(alt.value.readableText)  ← \(alt.report) (\(alt.reason), \(alt.sourceTime.canonicalText))")
                }
            }
            for c in file.conflicts {
                print("conflict \(c.id) on \(c.field): \(c.status)  \(c.candidates.canonicalJSON)")
            }
            for c in file.candidates {
                print("link candidate \(c.id): \(c.report) → #\(c.incidentNo)  \(c.status)  \(c.score.canonicalJSON)")
            }
            for t in file.transfers { print("transfer \(t.line)") }
            for r in file.instructions { print("instruction \(r.line)") }
            print("audit:")
            for entry in file.audit { print("  \(entry.seq)  \(entry.at.canonicalText)  \(entry.action)  \(entry.subject)") }
        }
    }

    struct Split: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a wrongly linked report out of its incident into its own; both are recomputed and audited.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The report, as source:external_id or its id.") var report: String
        @OptionGroup var decision: DecisionOptions

        func run() async throws {
            let number = try await Runtime(global).withHub { try await $0.incidents.split(report: report, by: decision.actor) }
            print("\(report) is now incident #\(number)")
        }
    }

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge two incidents: their reports are put together; the one left empty is kept, marked merged. Undo with split.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The incident that stays (number, id or one of its reports).") var target: String
        @Argument(help: "The incident merged into it.") var other: String
        @OptionGroup var decision: DecisionOptions

        func run() async throws {
            let number = try await Runtime(global).withHub { try await $0.incidents.merge(target, other, by: decision.actor) }
            print("merged into incident #\(number)")
        }
    }
}

extension Incidents {
    /// `liandong incidents candidates`: links a person decides.
    struct Candidates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link candidates: one per report, an incident it may belong to (weak but alone, or strong with a rival), for a person.",
            subcommands: [List.self, Accept.self, Reject.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Open candidates (all with --all).")
            @OptionGroup var global: GlobalOptions
            @Flag(help: "Decided ones too.") var all = false
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let candidates = try await Runtime(global).withPlainHub { try await $0.incidents.candidates(openOnly: !all) }
                try output.list(candidates, "candidate") { c in
                    "\(c.id)  \(c.report) → incident #\(c.incidentNo)  \(c.status)  \(c.score.canonicalJSON)"
                }
            }
        }

        struct Accept: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Link the report: its incident is merged into the candidate incident.")
            @OptionGroup var global: GlobalOptions
            @Argument var id: Int64
            @OptionGroup var decision: DecisionOptions

            func run() async throws {
                try await Runtime(global).withHub { try await $0.incidents.acceptCandidate(id, by: decision.actor) }
                print("candidate \(id) accepted")
            }
        }

        struct Reject: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Keep the report apart.")
            @OptionGroup var global: GlobalOptions
            @Argument var id: Int64
            @OptionGroup var decision: DecisionOptions

            func run() async throws {
                try await Runtime(global).withHub { try await $0.incidents.rejectCandidate(id, by: decision.actor) }
                print("candidate \(id) rejected")
            }
        }
    }

    /// `liandong incidents conflicts`: fields whose equal authorities disagree.
    struct Conflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Equal authorities disagreeing on a field the policy sends to review.",
            subcommands: [List.self, ShowConflict.self, Resolve.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Open conflicts (all with --all).")
            @OptionGroup var global: GlobalOptions
            @Flag(help: "Resolved and superseded ones too.") var all = false
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let conflicts = try await Runtime(global).withPlainHub { try await $0.incidents.conflicts(openOnly: !all) }
                try output.list(conflicts, "conflict") { c in
                    "\(c.id)  incident #\(c.incidentNo)  \(c.field)  \(c.status)  \(c.candidates.canonicalJSON)"
                }
            }
        }

        struct ShowConflict: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "One conflict with every side.")
            @OptionGroup var global: GlobalOptions
            @Argument var id: Int64
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let conflict = try await Runtime(global).withPlainHub { try await $0.incidents.conflict(id) }
                try output.show(conflict) { c in
                    print("conflict \(c.id) on incident #\(c.incidentNo), field \(c.field): \(c.status)")
                    for side in c.candidates.arrayValue ?? [] {
                        let o = side.objectValue ?? [:]
                        print("  \(o["report"]?.readableText ?? "")  \(o["value"]?.readableText ?? "")  (\(o["sourceTime"]?.readableText ?? ""))")
                    }
                    if let resolution = c.resolution { print("resolved: \(resolution.readableText)") }
                }
            }
        }

        struct Resolve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Decide a conflict; the incident is recomputed and the choice audited.")
            @OptionGroup var global: GlobalOptions
            @Argument var id: Int64
            @Option(help: "The value to keep, as JSON ({\"dead\":0,\"injured\":2}) or plain text.") var value: String
            @OptionGroup var decision: DecisionOptions

            func run() async throws {
                try await Runtime(global).withHub { try await $0.incidents.resolveConflict(id, value: value, by: decision.actor) }
                print("conflict \(id) resolved")
            }
        }
    }
}

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every entity and incident from the stored raw payloads with the current mappings and policies.",
        discussion: """
            The admins' decisions (splits, merges, candidates, conflict choices) are kept and honoured. Raw payloads, \
            mapping failures and the audit trail are kept too. With nothing changed, 'stats' shows the same digest after.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let runtime = try Runtime(global)
        let catalog = try runtime.catalog()
        let summary = try await runtime.withHub { hub in
            try await SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger).rebuild()
        }
        try output.show(summary) { summary in
            print(
                "rebuilt from \(summary.payloads) payload(s): \(summary.records) record(s), \(summary.ingest.inserted) entities"
                    + (summary.skippedPayloads > 0 ? ", \(summary.skippedPayloads) payload(s) without a mapping skipped" : ""))
        }
    }
}
