import LiandongAdapterKit
import LiandongHub
import LiandongMapping
import LiandongSync

extension Mapping {
    /// `documents` mapped by this mapping and packed as a sync hands them to the hub, in one batch.
    public func batch(_ documents: [String], stream: String = "test", cursor: String? = nil) -> IngestBatch {
        let mapper = PayloadMapper(mapping: self)
        let payloads = documents.enumerated().map { n, text in
            mapper.map(FetchedPayload(name: "document-\(n)", contentType: nil, body: Array(text.utf8)))
        }
        return IngestBatch(source: source, stream: stream, payloads: payloads, cursor: cursor)
    }
}

extension ActingUser {
    /// The acting user of a test's admin decisions.
    public static let test = ActingUser("test", reason: "decided by a test")
}
