import Dispatch
import Foundation

extension Array where Element: Sendable {
    /// `transform` of every element, in order, computed in chunks on every core. For the CPU-bound
    /// steps of an ingest transaction (decisions, audit bodies, hashes, features), which run while
    /// PostgreSQL waits for the client: the hub and PostgreSQL take turns, so the other core is free
    /// then. Below `minimumChunk` elements a chunk, a plain `map`.
    func concurrentMap<T: Sendable>(minimumChunk: Int = 64, _ transform: @Sendable (Element) -> T) -> [T] {
        let chunks = Swift.min(ProcessInfo.processInfo.activeProcessorCount, count / Swift.max(1, minimumChunk))
        guard chunks > 1 else { return map(transform) }
        let count = count
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Each chunk initializes its own slots only.
            nonisolated(unsafe) let base = buffer.baseAddress!
            self.withUnsafeBufferPointer { elements in
                nonisolated(unsafe) let source = elements.baseAddress!
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for index in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                        (base + index).initialize(to: transform(source[index]))
                    }
                }
            }
            initialized = count
        }
    }
}
