extension Sequence where Element == UInt8 {
    /// Lower-case hex of the bytes (hashes, digests), written into one buffer: `String(format:)` per
    /// byte costs a formatter call and a String per byte, which showed in every hashed record.
    public var hexString: String {
        let digits: StaticString = "0123456789abcdef"
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        digits.withUTF8Buffer { digits in
            for byte in self {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
