import LiandongAdapterKit
import LiandongHub
import LiandongMapping
import LiandongModel

/// Runs a fetched document through its mapping and packs the outcome for the hub. Sync, file
/// ingest, `mapping test` and replay all go through here, so they agree.
public struct PayloadMapper: Sendable {
    public let mapping: Mapping
    /// Where decode and map times go, when measured.
    public let clock: StageClock?

    public init(mapping: Mapping, clock: StageClock? = nil) {
        self.mapping = mapping
        self.clock = clock
    }

    /// Maps one payload.
    public func map(_ payload: FetchedPayload) -> ReceivedPayload {
        let result = mapping.map(payload.body, declaredEncoding: payload.declaredEncoding, clock: clock)
        var records: [CanonicalRecord] = []
        var failures: [FailedRecord] = []
        if let failure = result.documentFailure {
            failures.append(FailedRecord(.document, failures: [failure]))
        }
        for outcome in result.records {
            switch outcome {
            case .mapped(let record): records.append(record)
            case .failed(let index, let externalID, let reasons):
                failures.append(FailedRecord(.record(index: index), externalID: externalID, failures: reasons))
            }
        }
        return ReceivedPayload(
            name: payload.name, contentType: payload.contentType, body: payload.body,
            declaredEncoding: result.declaredEncoding, detectedEncoding: result.charset?.rawValue, mapping: mapping.ref,
            records: records, failures: failures)
    }

    /// Whether the whole document failed (its records could not even be listed).
    public static func documentFailed(_ payload: ReceivedPayload) -> Bool {
        payload.failures.contains { $0.scope == .document }
    }
}
