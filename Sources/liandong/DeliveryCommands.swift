import ArgumentParser
import Foundation
import LiandongHub
import LiandongModel
import LiandongSync

struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What the hub delivered to each receiver, what failed, and retrying what died.",
        subcommands: [List.self, Show.self, Retry.self, Approve.self, Refuse.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliveries, newest first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only those still pending after failed attempts, and dead ones.") var failed = false
        @Flag(help: "Only dead ones (refused, or out of attempts).") var dead = false
        @Flag(help: "Only those awaiting an operator's approval.") var awaiting = false
        @Option(help: "Only this receiver (police-110).") var target: String?
        @Option(help: "At most this many.") var limit = 200
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let statuses: [DeliveryStatus]? = dead ? [.dead] : failed ? [.pending, .dead, .expired] : awaiting ? [.awaitingApproval] : nil
            var deliveries = try await Runtime(global).withPlainHub { try await $0.outbox.deliveries(statuses: statuses, target: target, limit: limit) }
            if failed { deliveries = deliveries.filter { $0.lastError != nil } }
            try output.list(deliveries, "delivery") { d in
                "\(d.id)  \(d.status.rawValue)  \(d.target)  \(d.entityKind) \(d.entityID.uuidString.lowercased()) v\(d.entityVersion)  "
                    + "agreement v\(d.sentAgreementVersion ?? d.agreementVersion)  attempts \(d.attempts)"
                    + (d.receipt.map { "  receipt \($0)" } ?? "") + (d.lastError.map { "  error: \($0)" } ?? "")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One delivery: the document as sent, the agreement version, attempts, errors.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: Int64
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let detail = try await Runtime(global).withPlainHub { try await $0.outbox.delivery(id) }.decoded()
            guard !output.json else { return try printJSON(detail) }
            let d = detail.delivery
            print("Delivery \(d.id) to \(d.target): \(d.status.rawValue)")
            print("  entity: \(d.entityKind) \(d.entityID.uuidString.lowercased()) version \(d.entityVersion)")
            print("  idempotency key: \(d.idempotencyKey)")
            print("  agreement version: granted under \(d.agreementVersion)" + (d.sentAgreementVersion.map { ", sent under \($0)" } ?? ""))
            print("  created \(d.createdAt.canonicalText)" + (d.deliveredAt.map { ", delivered \($0.canonicalText)" } ?? "")
                + (d.receipt.map { ", receipt \($0)" } ?? ""))
            if let error = d.lastError { print("  last error: \(error)") }
            print("  payload (granted, masked): \(FieldValue.object(d.payload).canonicalJSON)")
            if let body = detail.sentBody { print("  as sent (\(detail.sentContentType ?? "?")):\n\(body)") }
            for a in detail.attempts {
                print("  attempt \(a.attempt) at \(a.at.canonicalText): \(a.outcome)" + (a.receipt.map { " \($0)" } ?? "")
                    + (a.error.map { " — \($0)" } ?? ""))
                if let answer = a.answer { print("    answered (\(a.answerContentType ?? "?")): \(answer)") }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead (or expired) deliveries again.",
            discussion: """
                A delivery whose entity has since reached the receiver at a later version is marked superseded \
                instead of being sent: the receiver already has newer data. A running serve or demo picks the \
                others up at once.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Delivery ids.") var ids: [Int64] = []
        @Flag(help: "Every dead delivery.") var dead = false
        @Flag(help: "Every delivery held back by an expired agreement (after renewing it).") var expired = false
        @OptionGroup var decision: DecisionOptions

        func validate() throws {
            guard !ids.isEmpty || dead || expired else { throw ValidationError("name delivery ids, or --dead, or --expired") }
        }

        func run() async throws {
            let statuses: [DeliveryStatus] = ids.isEmpty ? (dead ? [.dead] : []) + (expired ? [.expired] : []) : [.dead, .expired]
            let changed = try await Runtime(global).withHub { try await $0.outbox.retry(ids.isEmpty ? nil : ids, statuses: statuses, by: decision.actor) }
            for (id, status) in changed { print("\(id) \(status == .pending ? "queued again" : status.rawValue)") }
            if !ids.isEmpty, changed.count < ids.count {
                let missing = Set(ids).subtracting(changed.map(\.id)).sorted()
                print("not dead or expired (left alone): \(missing.map(String.init).joined(separator: ", "))")
            }
            print("\(changed.filter { $0.status == .pending }.count) queued again, \(changed.filter { $0.status == .superseded }.count) superseded")
        }
    }

    /// `deliveries approve` and `deliveries refuse`: one answer to deliveries awaiting approval.
    struct Answer: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Delivery ids (awaiting approval).") var ids: [Int64]
        @Option(help: "Why (required: written into the audit entry with your login).") var reason: String

        func run(_ decision: ApprovalDecision) async throws {
            let actor = ActingUser.commandLine(reason: reason)
            let changed = try await Runtime(global).withHub { try await $0.outbox.decide(ids, decision, by: actor) }
            for (id, status) in changed { print("\(id) \(status == .pending ? "approved, queued" : status.rawValue)") }
            let missing = Set(ids).subtracting(changed.map(\.id)).sorted()
            if !missing.isEmpty { print("not awaiting approval (left alone): \(missing.map(String.init).joined(separator: ", "))") }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve deliveries awaiting approval (a receiver marked 'approval: required'): they go out.",
            discussion: "A delivery whose entity has since reached the receiver at a later version is marked superseded instead.")
        @OptionGroup var answer: Answer

        func run() async throws { try await answer.run(.approve) }
    }

    struct Refuse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse deliveries awaiting approval: they never go.")
        @OptionGroup var answer: Answer

        func run() async throws { try await answer.run(.refuse) }
    }
}
