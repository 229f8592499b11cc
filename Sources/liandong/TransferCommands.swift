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
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let transfers = try await Runtime(global).withPlainHub { try await $0.outbox.transfers(overdueOnly: overdue) }
            try output.list(transfers, "transfer", qualifier: overdue ? " overdue" : "", \.line)
        }
    }
}

extension TransferView {
    /// One line for people: numbers, state, what is overdue, deadlines, the answer.
    var line: String {
        "#\(no)  \(fromSystem) \(fromNumber) → \(toSystem) \(toNumber ?? "-")  \(state)"
            + (overdue.map { "  OVERDUE (\($0))" } ?? "") + "  \(reason) (\(mode))"
            + "  accept by \(acceptDeadline.canonicalText), feedback by \(feedbackDeadline.canonicalText)"
            + (feedback.map { "  feedback: \($0)" } ?? "") + (returnReason.map { "  returned: \($0)" } ?? "")
    }
}
