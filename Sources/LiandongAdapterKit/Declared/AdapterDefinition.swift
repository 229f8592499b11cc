import Foundation
import LiandongMapping
import LiandongModel
import Yams

/// An agency folder's `adapter.yaml`: how the hub reaches the system (transport, paging, auth) and,
/// if the hub delivers to it, how it receives. What the records mean is the business of the mappings
/// its streams name; where the system is (URL, credentials' variables, schedule) is the
/// configuration's. See docs/adding-a-source.md for every key.
public struct AdapterDefinition: Sendable {
    /// The system's name (`police-110`): the configuration's key and the records' `source_system`.
    public var system: SourceSystemID
    /// The folder the definition was read from (`Adapters/police-110`).
    public var folder: URL
    /// How the system is reached.
    public var transport: Transport
    /// How pages are read for their paging information; records are read by the mappings.
    public var format: DocumentParser.Format
    /// The charset of pages that declare none.
    public var encoding: TextDecoding.Charset
    /// The streams it offers, each with its mapping and where it is read.
    public var streams: [SourceStream]
    /// How a stream's pages follow one another.
    public var paging: Paging
    /// How its credentials are presented.
    public var auth: Auth
    /// Requests per second at most, across the agency's streams; nil: no limit.
    public var requestsPerSecond: Double?
    /// How the system takes the hub's deliveries; nil when it takes none.
    public var receives: Receiving?

    /// How the system is reached: by the hub's declarative transports, or by a Swift module that
    /// registers a transport of this name (`AdapterCatalog.transports`).
    public enum Transport: Sendable, Hashable, CustomStringConvertible {
        /// An HTTP API: JSON, XML or CSV bodies.
        case http
        /// A drop folder of files (JSON lines read a page of lines at a time).
        case folder
        /// A table in another database over the PostgreSQL protocol.
        case database
        /// A transport written in Swift and registered under this name.
        case custom(String)

        init(_ name: String) {
            switch name {
            case "http": self = .http
            case "folder": self = .folder
            case "database": self = .database
            default: self = .custom(name)
            }
        }

        public var description: String {
            switch self {
            case .http: "http"
            case .folder: "folder"
            case .database: "database"
            case .custom(let name): name
            }
        }
    }

    /// How the system takes deliveries: one endpoint per entity kind, and where its answer says what
    /// it did.
    public struct Receiving: Sendable {
        /// The path (or, for `database`, the exchange table) a document is sent to; `{kind}` is the
        /// entity kind (`/jcj/api/jieshou/{kind}`).
        public var path: String
        /// The format of the system's answers.
        public var answer: DocumentParser.Format
        /// Where an acceptance names the receiver's own reference (`数据.接收编号`).
        public var receipt: String
        /// Where a refusal gives its reason (`消息`).
        public var reason: String
    }

    /// How the system's credentials are presented. The secrets themselves come from the environment,
    /// from the variables named here (the configuration's `credentials` may name others).
    public struct Auth: Sendable {
        /// How credentials travel: not at all, a bearer token, HTTP basic, or an HMAC-signed request.
        public enum Scheme: String, Sendable, Codable, CaseIterable {
            case none, bearer, basic, hmac
        }

        /// This system's scheme.
        public var scheme: Scheme
        /// Credential name (`token`, `user`, `password`, `app_key`, `secret`) → environment variable.
        public var variables: [String: String]
        /// HMAC signing (government gateways: app key, timestamp, nonce and a signature over them).
        public var signing: Signing

        /// The environment variable of each credential `scheme` needs: `overrides` (the
        /// configuration's `credentials`) over the ones named here.
        public func variables(overriddenBy overrides: [String: String]) -> [(credential: String, variable: String)] {
            required.map { ($0, overrides[$0] ?? variables[$0]!) }
        }

        /// The credentials `scheme` needs.
        public var required: [String] {
            switch scheme {
            case .none: []
            case .bearer: ["token"]
            case .basic: ["user", "password"]
            case .hmac: ["app_key", "secret"]
            }
        }

        public static let none = Auth(scheme: .none, variables: [:], signing: Signing())
    }

    /// How an HMAC-signed request is formed: the text signed, the digest, and the headers it travels in.
    public struct Signing: Sendable {
        /// The text signed, from `{method}`, `{path}` (with its query), `{timestamp}`, `{nonce}`,
        /// `{app_key}` and `{body_sha256}` (hex); `\n` between lines.
        public var text = "{method}\n{path}\n{timestamp}\n{nonce}\n{app_key}"
        /// The HMAC's hash.
        public var digest: Digest = .sha256
        /// How the signature is written in its header.
        public var encoding: Encoding = .base64
        /// `seconds` or `milliseconds` since 1970.
        public var timestampUnit: TimestampUnit = .milliseconds
        /// Header names: `app_key`, `timestamp`, `nonce`, `signature`.
        public var headers = ["app_key": "X-App-Key", "timestamp": "X-Timestamp", "nonce": "X-Nonce", "signature": "X-Signature"]

        /// An HMAC's hash function.
        public enum Digest: String, Sendable, Codable, CaseIterable { case sha256 = "hmac-sha256", sha1 = "hmac-sha1" }
        /// A signature's text form.
        public enum Encoding: String, Sendable, Codable, CaseIterable { case base64, hex }
        /// What a timestamp counts since 1970.
        public enum TimestampUnit: String, Sendable, Codable, CaseIterable { case seconds, milliseconds }

        /// The defaults above.
        public init() {}
    }

    /// The sample pages of `stream` in `samples/`: `<stream>.<ext>`, `<stream>-2.<ext>` and so on.
    public func samples(of stream: SourceStream) -> [URL] {
        let folder = folder.appendingPathComponent("samples")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        return files.filter { file in
            let name = file.deletingPathExtension().lastPathComponent
            return name == stream.name || (name.hasPrefix(stream.name + "-") && Int(name.dropFirst(stream.name.count + 1)) != nil)
        }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// A definition that cannot be read, with the file, the key and what is wrong.
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var file: String
        public var key: String
        public var message: String

        public init(file: String, key: String, message: String) {
            self.file = file
            self.key = key
            self.message = message
        }

        public var description: String { "\(file): \(key.isEmpty ? "" : "key '\(key)': ")\(message)" }
    }

    /// Reads `folder/adapter.yaml`.
    public init(folder: URL) throws(LoadError) {
        let file = folder.appendingPathComponent("adapter.yaml")
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw LoadError(file: file.path, key: "", message: "cannot be read: \(error.localizedDescription)")
        }
        let written: AdapterFile
        do {
            written = try YAMLDecoder().decode(AdapterFile.self, from: text)
        } catch let error as DecodingError {
            throw LoadError(file: file.path, key: error.keyPath, message: error.reason)
        } catch {
            throw LoadError(file: file.path, key: "", message: "is not valid YAML: \(error)")
        }
        do {
            try self.init(written, folder: folder)
        } catch let error as DecodingError {
            throw LoadError(file: file.path, key: error.keyPath, message: error.reason)
        } catch {
            throw LoadError(file: file.path, key: "", message: "\(error)")
        }
    }

    /// The file's values, checked where their types cannot say it.
    private init(_ file: AdapterFile, folder: URL) throws {
        system = SourceSystemID(file.system)
        self.folder = folder
        transport = Transport(file.transport)
        format = file.format
        encoding = file.encoding ?? .utf8
        streams = file.streams.map { SourceStream(name: $0.name, mapping: $0.mapping, path: $0.path, next: $0.next) }
        requestsPerSecond = file.requestsPerSecond
        let names = streams.map(\.name)
        guard !names.isEmpty, Set(names).count == names.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: [AdapterFile.CodingKeys.streams], debugDescription: "give at least one stream, each with a name of its own"))
        }
        paging = try Paging(file.paging ?? PagingFile(), transport: transport)
        if transport != .database, let stream = file.streams.first(where: { $0.next != nil }) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [AdapterFile.CodingKeys.streams, NamedKey(stream.name), NamedKey("next")],
                    debugDescription: "a stream's own 'next' is for the database transport (each table its columns); use paging.next"))
        }
        if let stream = file.streams.first(where: { $0.next.map { Set($0.keys) != ["time", "id"] } ?? false }) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [AdapterFile.CodingKeys.streams, NamedKey(stream.name), NamedKey("next")],
                    debugDescription: "a table is read by update time and id: give next: {time: <column>, id: <column>}"))
        }
        auth = try file.auth.map(Auth.init) ?? .none
        receives = file.receives.map {
            Receiving(path: $0.path, answer: $0.answer ?? file.format, receipt: $0.receipt, reason: $0.reason ?? "message")
        }
    }
}

/// A string-keyed coding key, for the paths of errors found after decoding.
struct NamedKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `adapter.yaml` as written.
struct AdapterFile: Decodable {
    var system: String
    var transport: String
    var format: DocumentParser.Format
    var encoding: TextDecoding.Charset?
    var streams: [StreamFile]
    var paging: PagingFile?
    var auth: AuthFile?
    var requestsPerSecond: Double?
    var receives: ReceivingFile?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case system, description, transport, format, encoding, streams, paging, auth, receives
        case requestsPerSecond = "requests_per_second"
    }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        system = try c.decode(String.self, forKey: .system)
        transport = try c.decode(String.self, forKey: .transport)
        format = try c.decode(DocumentParser.Format.self, forKey: .format)
        encoding = try c.decodeIfPresent(TextDecoding.Charset.self, forKey: .encoding)
        streams = try c.decode([StreamFile].self, forKey: .streams)
        paging = try c.decodeIfPresent(PagingFile.self, forKey: .paging)
        auth = try c.decodeIfPresent(AuthFile.self, forKey: .auth)
        requestsPerSecond = try c.decodeIfPresent(Double.self, forKey: .requestsPerSecond)
        receives = try c.decodeIfPresent(ReceivingFile.self, forKey: .receives)
        if let rate = requestsPerSecond, !(rate > 0) {
            throw DecodingError.dataCorruptedError(forKey: .requestsPerSecond, in: c, debugDescription: "expected a number above 0")
        }
    }

    struct StreamFile: Decodable {
        var name: String
        var mapping: String
        var path: String?
        /// The database transport: this table's update-time and id columns, over `paging.next`.
        var next: [String: String]?

        enum CodingKeys: String, CodingKey, CaseIterable { case name, mapping, path, next }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            mapping = try c.decode(String.self, forKey: .mapping)
            path = try c.decodeIfPresent(String.self, forKey: .path)
            next = try c.decodeIfPresent([String: String].self, forKey: .next)
        }
    }

    struct ReceivingFile: Decodable {
        var path: String
        var answer: DocumentParser.Format?
        var receipt: String
        var reason: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case path, answer, receipt, reason }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            answer = try c.decodeIfPresent(DocumentParser.Format.self, forKey: .answer)
            receipt = try c.decode(String.self, forKey: .receipt)
            reason = try c.decodeIfPresent(String.self, forKey: .reason)
        }
    }
}

/// `auth:` as written.
struct AuthFile: Decodable {
    var type: AdapterDefinition.Auth.Scheme
    var variables: [String: String] = [:]
    var signing = AdapterDefinition.Signing()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, tokenEnv = "token_env", userEnv = "user_env", passwordEnv = "password_env", appKeyEnv = "app_key_env"
        case secretEnv = "secret_env", sign, digest, encoding, timestamp, headers
    }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(AdapterDefinition.Auth.Scheme.self, forKey: .type)
        for (key, credential) in [(CodingKeys.tokenEnv, "token"), (.userEnv, "user"), (.passwordEnv, "password"), (.appKeyEnv, "app_key"), (.secretEnv, "secret")] {
            variables[credential] = try c.decodeIfPresent(String.self, forKey: key)
        }
        signing.text = try c.decodeIfPresent(String.self, forKey: .sign) ?? signing.text
        signing.digest = try c.decodeIfPresent(AdapterDefinition.Signing.Digest.self, forKey: .digest) ?? signing.digest
        signing.encoding = try c.decodeIfPresent(AdapterDefinition.Signing.Encoding.self, forKey: .encoding) ?? signing.encoding
        signing.timestampUnit = try c.decodeIfPresent(AdapterDefinition.Signing.TimestampUnit.self, forKey: .timestamp) ?? signing.timestampUnit
        if let headers = try c.decodeIfPresent([String: String].self, forKey: .headers) {
            for name in headers.keys where signing.headers[name] == nil {
                throw DecodingError.dataCorruptedError(
                    forKey: .headers, in: c, debugDescription: "unknown header '\(name)'; expected one of: app_key, nonce, signature, timestamp")
            }
            signing.headers.merge(headers) { $1 }
        }
    }
}

extension AdapterDefinition.Auth {
    init(_ file: AuthFile) throws {
        scheme = file.type
        variables = file.variables
        signing = file.signing
        for credential in required where variables[credential] == nil {
            throw DecodingError.keyNotFound(
                NamedKey("\(credential)_env"), .init(codingPath: [AdapterFile.CodingKeys.auth], debugDescription: "required by \(scheme)"))
        }
    }
}
