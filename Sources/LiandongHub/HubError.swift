/// An error from the hub. `description` is safe to show anyone; `debugDescription` adds the
/// underlying error.
public struct HubError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var description: String
        /// The PostgreSQL server package is not installed or its binaries are not found.
        public static let serverBinariesMissing = Code(description: "serverBinariesMissing")
        /// The embedded cluster could not be initialised, started or stopped.
        public static let embeddedServer = Code(description: "embeddedServer")
        /// A database URL that cannot be understood.
        public static let invalidDatabaseURL = Code(description: "invalidDatabaseURL")
        /// A migration failed.
        public static let migration = Code(description: "migration")
        /// An entity, failure or other object that does not exist.
        public static let notFound = Code(description: "notFound")
        /// A request that does not fit the object's state (replaying an ignored failure).
        public static let invalidState = Code(description: "invalidState")
        /// The database connection closed under a statement (the server restarted or went away);
        /// the work it was part of is retried whole.
        public static let connectionLost = Code(description: "connectionLost")
        /// Data the hub stored that does not read back (JSON that does not parse): a damaged row.
        public static let corruptData = Code(description: "corruptData")
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String { message }
    public var debugDescription: String {
        "HubError(\(code)) at \(file):\(line): \(message)" + (underlying.map { " — underlying: \(String(reflecting: $0))" } ?? "")
    }
}
