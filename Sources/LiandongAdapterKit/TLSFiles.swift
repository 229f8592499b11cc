import AsyncHTTPClient
import Foundation
import NIOSSL
import Synchronization

/// The files of a TLS connection to an agency on a government intranet, whose certificates a
/// government CA signs: the CA bundle to trust instead of the system's roots, and the client
/// certificate and key the agency may ask for (mutual TLS). All PEM.
public struct TLSFiles: Sendable, Hashable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// The client configuration these files make.
    func configuration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .file(caFile) }
        if let certificateFile, let keyFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        return tls
    }
}

extension HTTPTransport {
    /// One client per set of TLS files, made on first use and kept for the life of the process (a
    /// client holds its connection pool; agencies sharing files share it).
    private static let clients = Mutex<[TLSFiles: HTTPClient]>([:])

    /// The client that connects with `tls`.
    static func client(for tls: TLSFiles) throws -> HTTPClient {
        try clients.withLock { clients in
            if let client = clients[tls] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.tlsConfiguration = try tls.configuration()
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[tls] = client
            return client
        }
    }
}
