import Crypto
import Foundation
import LiandongModel

/// Signs a request the way government API gateways ask: an app key, a timestamp and a one-time nonce
/// in headers, and an HMAC over a text made of them and the request (`AdapterDefinition.Signing`).
/// The gateway recomputes the HMAC with the shared secret and refuses a stale or replayed timestamp.
public struct RequestSigner: Sendable {
    public var signing: AdapterDefinition.Signing
    public var appKey: String
    var secret: String

    public init(signing: AdapterDefinition.Signing, appKey: String, secret: String) {
        self.signing = signing
        self.appKey = appKey
        self.secret = secret
    }

    /// The headers for `method` on `path` (with its query) with `body`, at `date` with `nonce`.
    public func headers(method: String, path: String, body: [UInt8], date: Date = Date(), nonce: String = UUID().uuidString)
        -> [(String, String)]
    {
        let timestamp =
            switch signing.timestampUnit {
            case .seconds: "\(Int64(date.timeIntervalSince1970))"
            case .milliseconds: "\(Int64(date.timeIntervalSince1970 * 1000))"
            }
        let text = signedText(method: method, path: path, body: body, timestamp: timestamp, nonce: nonce)
        return [
            (signing.headers["app_key"]!, appKey), (signing.headers["timestamp"]!, timestamp), (signing.headers["nonce"]!, nonce),
            (signing.headers["signature"]!, signature(of: text)),
        ]
    }

    /// The text signed: the template with its parts filled in.
    func signedText(method: String, path: String, body: [UInt8], timestamp: String, nonce: String) -> String {
        let parts = [
            "method": method, "path": path, "timestamp": timestamp, "nonce": nonce, "app_key": appKey,
            "body_sha256": Array(SHA256.hash(data: body)).hexString,
        ]
        return parts.reduce(signing.text.replacingOccurrences(of: "\\n", with: "\n")) { text, part in
            text.replacingOccurrences(of: "{\(part.key)}", with: part.value)
        }
    }

    /// The HMAC of `text` under the secret, encoded as the gateway expects.
    func signature(of text: String) -> String {
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac: [UInt8] =
            switch signing.digest {
            case .sha256: Array(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
            case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: Data(text.utf8), using: key))
            }
        switch signing.encoding {
        case .base64: return Data(mac).base64EncodedString()
        case .hex: return mac.hexString
        }
    }
}
