import Foundation
import LiandongAdapterKit
import LiandongModel

/// A data-sharing exchange's drop folder: JSON-lines files (`*.jsonl`) the exchange writes, read in
/// name order, `pageSize` lines per page. The cursor is `<file>:<byte offset>`, so a page is read
/// from where the last one ended and memory stays flat however large the file. `location` is the
/// folder, or one file.
public struct ExchangeFolderAdapter: SourceAdapter {
    public static let system: SourceSystemID = "exchange"
    public static let streams = [SourceStream(name: "reports", mapping: "exchange/report")]
    /// `Self.streams`, under the name given to `init`.
    public let streams: [SourceStream]
    /// The drop folder, or one file.
    public let location: URL
    let pageSize: Int

    /// `stream` names the cursor: one folder read twice under two names is read twice.
    public init(location: URL, pageSize: Int = 1000, stream: String = "reports") {
        self.location = location
        self.pageSize = pageSize
        streams = [SourceStream(name: stream, mapping: "exchange/report")]
    }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        let files = try Self.files(at: location)
        let (startFile, startOffset) = Self.position(cursor)
        for file in files where startFile == nil || file.lastPathComponent >= startFile! {
            let offset = file.lastPathComponent == startFile ? startOffset : 0
            let (body, end, atEnd) = try Self.lines(of: file, from: offset, count: pageSize)
            guard !body.isEmpty else { continue }
            let payload = FetchedPayload(
                name: "\(file.lastPathComponent):\(offset)", contentType: "application/jsonl", body: body)
            let isLast = atEnd && file == files.last
            return SourcePage(payloads: [payload], cursor: "\(file.lastPathComponent):\(end)", hasMore: !isLast)
        }
        return SourcePage(payloads: [], cursor: cursor, hasMore: false)
    }

    static func files(at location: URL) throws -> [URL] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isFolder) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: location.path])
        }
        guard isFolder.boolValue else { return [location] }
        return try FileManager.default.contentsOfDirectory(at: location, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "jsonl" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func position(_ cursor: String?) -> (file: String?, offset: UInt64) {
        guard let cursor, let colon = cursor.lastIndex(of: ":"), let offset = UInt64(cursor[cursor.index(after: colon)...]) else {
            return (nil, 0)
        }
        return (String(cursor[..<colon]), offset)
    }

    /// Up to `count` whole lines of `file` from byte `offset`: their bytes, the offset after them,
    /// and whether the file ends there. A last line without its newline is taken once the file ends.
    static func lines(of file: URL, from offset: UInt64, count: Int) throws -> (body: [UInt8], end: UInt64, atEnd: Bool) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        var body: [UInt8] = []
        var lines = 0
        while lines < count {
            guard let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty else {
                return (body, offset + UInt64(body.count), true)
            }
            let bytes = [UInt8](chunk)
            var index = bytes.startIndex
            while let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) {
                lines += 1
                index = newline + 1
                if lines == count {
                    body.append(contentsOf: bytes[..<index])
                    let end = offset + UInt64(body.count)
                    let size = try handle.seekToEnd()
                    return (body, end, end >= size)
                }
            }
            body.append(contentsOf: bytes)
        }
        return (body, offset + UInt64(body.count), false)
    }
}
