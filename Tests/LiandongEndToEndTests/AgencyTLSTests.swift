import Foundation
import Hummingbird
import HummingbirdTLS
import LiandongAdapterKit
import LiandongConfiguration
import LiandongTestKit
import LiandongTestSupport
import NIOCore
import NIOSSL
import Synchronization
import Testing

/// An agency on a government intranet: an HTTPS server whose certificate a CA of its own signs and
/// which asks the hub for a client certificate. The hub reads it with the configuration's TLS files,
/// and without them is refused.
@Suite struct AgencyTLSTests {
    /// A CA, a server certificate for 127.0.0.1 and a client certificate, made by `openssl`.
    static func certificates() throws -> URL {
        let folder = Scratch.path("tls")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = """
            set -e
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Liandong Test CA"
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
            printf "subjectAltName=IP:127.0.0.1\\n" > san.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=liandong"
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl made the certificates")
        return folder
    }

    @Test func anIntranetAgencyIsReadWithItsCAAndAClientCertificate() async throws {
        let folder = try Self.certificates()
        func file(_ name: String) -> String { folder.appendingPathComponent(name).path }
        var server = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(file("server.pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: file("server.key"), format: .pem)))
        server.trustRoots = .file(file("ca.pem"))
        server.certificateVerification = .noHostnameVerification
        let page = try String(contentsOf: Repository.adapters.appendingPathComponent("hotline-12345/samples/work-orders.json"), encoding: .utf8)
        let router = Router()
        router.get("api/v1/workorders") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        let port = Port()
        let app = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: server),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.set(channel.localAddress?.port) })
        let running = Task { try await app.runService() }
        defer { running.cancel() }
        let bound = try await eventually("the TLS server listens", within: .seconds(30)) { port.value }
        let agencies = try AdapterCatalog.repository()
        let stream = try agencies.definition("hotline-12345").streams[0]
        func adapter(_ tls: TLSFiles?) throws -> any SourceAdapter {
            try agencies.make(
                "hotline-12345", settings: .init(url: "https://127.0.0.1:\(bound)", credentials: ["token": "T"], timeoutSeconds: 2, attempts: 1, tls: tls),
                environment: ["T": "token"], logger: TestDatabase.logger)
        }
        let page1 = try await adapter(TLSFiles(caFile: file("ca.pem"), certificateFile: file("client.pem"), keyFile: file("client.key")))
            .pull(stream, after: nil)
        #expect(page1.payloads.count == 1 && page1.cursor != nil)
        // The system's roots do not know the government CA; without a client certificate the agency refuses.
        for tls in [nil, TLSFiles(caFile: file("ca.pem"))] {
            await #expect(throws: AdapterError.self) { try await adapter(tls).pull(stream, after: nil) }
        }
    }

    @Test func tlsFilesAreCheckedWithTheirKey() throws {
        let config = Scratch.path("config", extension: "yaml")
        try "adapters: \(Repository.adapters.path)\nsources:\n  hotline-12345: {url: https://x, tls: {ca_file: missing.pem}}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        #expect {
            try HubConfiguration(file: config, dataDirectory: nil, environment: [:])
        } throws: { error in
            (error as? HubConfiguration.Error).map { $0.key == "sources.hotline-12345.tls.ca_file" && $0.message.contains("missing.pem") } == true
        }
        try "adapters: \(Repository.adapters.path)\nsources:\n  exchange: {url: /srv/x, tls: {ca_file: \(config.path)}}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        #expect {
            try HubConfiguration(file: config, dataDirectory: nil, environment: [:])
        } throws: { error in
            (error as? HubConfiguration.Error).map { $0.key == "sources.exchange.tls" && $0.message.contains("https") } == true
        }
    }
}

/// The port a server bound, set from its event loop.
final class Port: Sendable {
    private let bound = Mutex<Int?>(nil)
    func set(_ port: Int?) { bound.withLock { $0 = port } }
    var value: Int? { bound.withLock { $0 } }
}
