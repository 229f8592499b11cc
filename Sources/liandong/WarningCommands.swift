import ArgumentParser
import Foundation
import LiandongHub

struct Warnings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Warnings' call-outs (叫应): who was called for each red or orange warning, and who acknowledged.",
        subcommands: [Calls.self], defaultSubcommand: Calls.self)

    struct Calls: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Call-outs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only those the person has not acknowledged yet.") var unacknowledged = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let calls = try await Runtime(global).withPlainHub { try await $0.outbox.callouts(unacknowledgedOnly: unacknowledged) }
            try output.list(calls, "call-out", qualifier: unacknowledged ? " unacknowledged" : "") { c in
                "\(c.id)  \(c.target)  \(c.person)  warning \(c.warningID) (\(c.colour))  called \(c.calledAt.canonicalText)  "
                    + (c.acknowledgedAt.map { "acknowledged \($0.canonicalText)" } ?? "NOT ACKNOWLEDGED")
            }
        }
    }
}
