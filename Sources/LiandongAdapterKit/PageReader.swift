import LiandongMapping
import LiandongModel

/// Reads paging information (next cursor, more-to-come flag) out of a fetched page, with the same
/// decoding and hardened parsing the mappings use. A page that cannot be read yields nil: the
/// caller keeps its cursor, so the records of a broken page are fetched again, never skipped.
public enum PageReader {
    /// Parses a fetched page, or nil when it is not a readable document.
    public static func document(
        _ payload: FetchedPayload, format: DocumentParser.Format, fallback: TextDecoding.Charset = .utf8
    ) -> DocumentNode? {
        guard let decoded = try? TextDecoding.decode(payload.body, declared: payload.declaredEncoding, fallback: fallback)
        else { return nil }
        return try? DocumentParser().parse(decoded.text, as: format)
    }
}
