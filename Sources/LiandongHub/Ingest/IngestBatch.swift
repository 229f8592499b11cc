import Foundation
import LiandongModel

/// What a sync hands the hub for one transaction: received payloads with their mapping outcomes,
/// and the cursor to advance to when they are stored.
public struct IngestBatch: Sendable {
    public var source: SourceSystemID
    public var stream: String
    public var payloads: [ReceivedPayload]
    /// The stream's cursor after this batch; stored in the same transaction.
    public var cursor: String?

    public init(source: SourceSystemID, stream: String, payloads: [ReceivedPayload], cursor: String?) {
        self.source = source
        self.stream = stream
        self.payloads = payloads
        self.cursor = cursor
    }
}

/// One document as received, with what its mapping made of it.
public struct ReceivedPayload: Sendable {
    /// Page, file or message name as received.
    public var name: String
    public var contentType: String?
    /// The bytes exactly as received.
    public var body: [UInt8]
    public var declaredEncoding: String?
    public var detectedEncoding: String?
    public var mapping: MappingRef
    public var records: [CanonicalRecord]
    public var failures: [FailedRecord]

    public init(
        name: String, contentType: String?, body: [UInt8], declaredEncoding: String?, detectedEncoding: String?,
        mapping: MappingRef, records: [CanonicalRecord], failures: [FailedRecord]
    ) {
        self.name = name
        self.contentType = contentType
        self.body = body
        self.declaredEncoding = declaredEncoding
        self.detectedEncoding = detectedEncoding
        self.mapping = mapping
        self.records = records
        self.failures = failures
    }
}

/// A record, or a whole document, that did not map.
public struct FailedRecord: Sendable, Hashable {
    /// What failed: the whole document (its records could not even be listed), or one record of it.
    public enum Scope: Sendable, Hashable {
        case document
        case record(index: Int)
    }

    public var scope: Scope
    public var externalID: String?
    public var failures: [MappingFailure]

    public init(_ scope: Scope, externalID: String? = nil, failures: [MappingFailure]) {
        self.scope = scope
        self.externalID = externalID
        self.failures = failures
    }

    /// The index as `mapping_failure.record_index` and JSON output keep it: the record's, or -1 for
    /// the whole document.
    public var recordIndex: Int {
        switch scope {
        case .document: -1
        case .record(let index): index
        }
    }
}

/// What one ingest did.
public struct IngestSummary: Sendable, Hashable, Codable {
    /// Payloads stored for the first time.
    public var newPayloads = 0
    /// Payloads whose identical bytes were stored before: nothing done.
    public var duplicatePayloads = 0
    public var inserted = 0
    public var updated = 0
    /// Records identical to the current version.
    public var unchanged = 0
    /// Records older than the current version: their differing values were kept as alternates.
    public var older = 0
    public var linked = 0
    public var failures = 0

    public init() {}

    /// Adds another summary's counts to this one.
    public mutating func add(_ other: IngestSummary) {
        newPayloads += other.newPayloads
        duplicatePayloads += other.duplicatePayloads
        inserted += other.inserted
        updated += other.updated
        unchanged += other.unchanged
        older += other.older
        linked += other.linked
        failures += other.failures
    }
}
