import ArgumentParser
import Foundation
import LiandongHub

struct Transfers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Matters the hub carried between 12345 and 110: both numbers, reason, deadlines, acceptance, feedback.",
        subcommands: [List.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Transfers, newest first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only those with no acceptance or no feedback by their deadline (跟踪督办).") var overdue = false
        @Flag var json = false

        func run() async throws {
            let transfers = try await Runtime(global).withHub { try await $0.transfers(overdueOnly: overdue) }
            if json { return try printJSON(transfers) }
            for t in transfers {
                print(
                    "#\(t.no)  \(t.fromSystem) \(t.fromNumber) → \(t.toSystem) \(t.toNumber ?? "-")  \(t.state)"
                        + (t.overdue.map { "  OVERDUE (\($0))" } ?? "") + "  \(t.reason) (\(t.mode))"
                        + "  accept by \(t.acceptDeadline.canonicalText), feedback by \(t.feedbackDeadline.canonicalText)"
                        + (t.feedback.map { "  feedback: \($0)" } ?? "") + (t.returnReason.map { "  returned: \($0)" } ?? ""))
            }
            print("\(transfers.count) transfer(s)" + (overdue ? " overdue" : ""))
        }
    }
}
