import ArgumentParser
import Foundation
import LiandongHub

/// `liandong instructions`: the bureau's instructions (指令) and each addressee's acknowledgement and feedback.
struct Instructions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bureau instructions (指令) per addressee: delivery, acknowledgement (签收), feedback (反馈), deadline.",
        subcommands: [List.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every addressee of every instruction, newest instruction first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only addressees that have not reported back yet.") var pending = false
        @Flag(help: "Only addressees with no feedback past the instruction's deadline (跟踪督办).") var overdue = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let receipts = try await Runtime(global).withPlainHub { try await $0.outbox.instructionReceipts(pendingOnly: pending, overdueOnly: overdue) }
            try output.list(receipts, "receipt", qualifier: overdue ? " overdue" : pending ? " pending" : "", \.line)
        }
    }
}

extension InstructionReceiptView {
    /// One line for people: instruction, addressee, state, delivery, signature, deadline, feedback.
    var line: String {
        "\(instructionNo) → \(addressee)  \(state)" + (overdue ? "  OVERDUE" : "") + "  delivery \(delivery)"
            + (acknowledgedAt.map { "  signed \($0.canonicalText)" + (acknowledgedBy.map { " by \($0)" } ?? "") } ?? "")
            + (feedbackDeadline.map { "  feedback by \($0.canonicalText)" } ?? "")
            + (feedback.map { "  feedback: \($0)" } ?? "") + (title.map { "  \($0)" } ?? "")
    }
}
