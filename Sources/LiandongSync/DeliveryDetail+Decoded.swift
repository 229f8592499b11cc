import LiandongAdapterKit
import LiandongHub
import LiandongMapping

extension DeliveryDetail {
    /// The document sent and the receiver's answers as text in their own charsets (the content
    /// type's, else the XML declaration's, else UTF-8): 119's GBK documents read as Chinese, not mojibake.
    public func decoded() -> DeliveryDetail {
        var detail = self
        detail.sentBody = sentBytes.map { Self.text($0, contentType: sentContentType) } ?? sentBody
        for index in detail.attempts.indices {
            let attempt = detail.attempts[index]
            detail.attempts[index].answer = attempt.answerBytes.map { Self.text($0, contentType: attempt.answerContentType) } ?? attempt.answer
        }
        return detail
    }

    static func text(_ bytes: [UInt8], contentType: String?) -> String {
        let declared = contentType.flatMap(FetchedPayload.charset(in:))
        return (try? TextDecoding.decode(bytes, declared: declared, fallback: .utf8).text) ?? String(decoding: bytes, as: UTF8.self)
    }
}
