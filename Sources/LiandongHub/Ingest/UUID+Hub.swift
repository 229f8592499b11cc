import Foundation

extension UUID {
    /// The id as the hub writes it: lower case.
    var lowercasedText: String { uuidString.lowercased() }

    /// The id of 16 `bytes`, with the `version` nibble and the RFC 9562 variant bits set.
    init(_ bytes: [UInt8], version: UInt8) {
        var b = bytes
        b[6] = (b[6] & 0x0F) | (version << 4)
        b[8] = (b[8] & 0x3F) | 0x80
        self.init(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    /// A new id whose first 48 bits are the Unix time in milliseconds and the rest random (RFC 9562
    /// version 7). New incidents take these, so that they go to the right-hand end of every index on
    /// their id (`incident`, `incident_report`, `outbox`, `audit_entry`) instead of into random pages:
    /// random ids slowed a large hub once those indexes outgrew PostgreSQL's buffers.
    static func timeOrdered(at time: Date = Date()) -> UUID {
        let milliseconds = UInt64(max(0, time.timeIntervalSince1970 * 1000))
        // One draw of random bytes (`UUID()`), not one system call a byte.
        var bytes = withUnsafeBytes(of: UUID().uuid) { Array($0) }
        for n in 0..<6 { bytes[n] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - n))) }
        return UUID(bytes, version: 7)
    }
}
