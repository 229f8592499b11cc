import Foundation
import LiandongMapping
import LiandongModel

/// An agency system the hub delivers to. The pusher hands it documents already rendered by the
/// receiver's outbound mapping; the adapter knows only transport, auth and how the receiver answers.
///
/// A receiver must treat a repeated `idempotencyKey` as the same delivery: the pusher sends again
/// whenever it cannot know that an earlier attempt arrived (a timeout, a crash before recording).
public protocol TargetAdapter: Sendable {
    /// The receiving system's name (`police-110`).
    var system: SourceSystemID { get }
    /// Sends one document; returns the receiver's acceptance. Throws `AdapterError`: transient for
    /// what a retry may cure, otherwise a rejection of this document.
    func push(_ message: OutboundMessage) async throws -> DeliveryReceipt
}

/// One document on its way to a receiver.
public struct OutboundMessage: Sendable {
    /// The same on every attempt at this entity version for this receiver.
    public var idempotencyKey: String
    /// The entity kind (`incident`), for receivers with one endpoint per kind.
    public var kind: EntityKind
    public var body: [UInt8]
    public var contentType: String

    public init(idempotencyKey: String, kind: EntityKind, body: [UInt8], contentType: String) {
        self.idempotencyKey = idempotencyKey
        self.kind = kind
        self.body = body
        self.contentType = contentType
    }
}

/// The receiver's acceptance: its own reference for what it received (受理编号).
public struct DeliveryReceipt: Sendable, Equatable {
    public var reference: String

    public init(reference: String) { self.reference = reference }
}

extension HTTPTransport {
    /// POSTs `message` to `path` and reads the receiver's acceptance number at `receiptPath` of its
    /// answer (`data.receiptNo`). An answer without one is a rejection with the answer as its `answer`;
    /// a refusal's reason is read at `reasonPath` of the receiver's answer (`message`, `消息`).
    public func deliver(
        _ message: OutboundMessage, to path: String, answer format: DocumentParser.Format, receiptPath: String, reasonPath: String
    ) async throws -> DeliveryReceipt {
        let answer: FetchedPayload
        do {
            answer = try await post(path, body: message.body, contentType: message.contentType, idempotencyKey: message.idempotencyKey)
        } catch var error as AdapterError {
            if let refusal = error.answer {
                let document = PageReader.document(FetchedPayload(name: path, contentType: refusal.contentType, body: refusal.body), format: format)
                error.answer?.reason = document?.select(reasonPath).first?.text
            }
            throw error
        }
        guard let reference = PageReader.document(answer, format: format)?.select(receiptPath).first?.text, !reference.isEmpty else {
            throw AdapterError(
                .refused, system: system, "the answer to \(path) has no '\(receiptPath)'",
                answer: RemoteAnswer(body: answer.body, contentType: answer.contentType))
        }
        return DeliveryReceipt(reference: reference)
    }
}
