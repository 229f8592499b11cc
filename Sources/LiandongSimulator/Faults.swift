import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Faults a simulator injects into its next responses, to test that the hub survives them.
public enum Fault: String, Sendable, CaseIterable, Codable {
    /// HTTP 503.
    case serverError = "server_error"
    /// No answer for longer than any sane client timeout (35 s).
    case timeout
    /// The answer comes after 2 s.
    case slow
    /// The body is cut in half (Content-Length matches the cut body).
    case truncated
    /// One record in the answer has an invalid field.
    case malformedRecord = "malformed_record"
    /// The body is encoded differently than declared.
    case wrongEncoding = "wrong_encoding"
}

/// A queue of pending faults, shared by a simulator's request handlers.
public final class FaultQueue: Sendable {
    private let pending = Mutex<[Fault]>([])

    public init() {}

    /// Injects `fault` into the next `count` list responses.
    public func inject(_ fault: Fault, count: Int = 1) {
        pending.withLock { $0 += Array(repeating: fault, count: count) }
    }

    /// Drops every fault not yet served: the system has recovered.
    public func clear() {
        pending.withLock { $0.removeAll() }
    }

    /// Takes the next fault, if any.
    func next() -> Fault? {
        pending.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }

    /// Faults not yet served.
    public var remaining: Int { pending.withLock { $0.count } }
}

extension FaultQueue {
    /// The answer `body` with the next fault (if any) applied: `render(true)` is the page with one
    /// malformed record, `wrongEncoding()` the page in another charset than declared.
    func respond(body: [UInt8], contentType: String, render: (_ malformed: Bool) -> [UInt8], wrongEncoding: () -> [UInt8])
        async throws -> Response
    {
        var bytes = body
        switch next() {
        case .serverError?: return Response(status: .serviceUnavailable)
        case .timeout?: try await Task.sleep(for: .seconds(35))
        case .slow?: try await Task.sleep(for: .seconds(2))
        case .truncated?: bytes = Array(bytes.prefix(bytes.count / 2))
        case .malformedRecord?: bytes = render(true)
        case .wrongEncoding?: bytes = wrongEncoding()
        case nil: break
        }
        return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
