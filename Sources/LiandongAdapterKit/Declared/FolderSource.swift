import Foundation
import LiandongMapping
import LiandongModel

/// A drop folder an exchange writes files into, read in name order. JSON-lines files are read
/// `pageSize` lines at a time (memory stays flat however large the file), any other file whole. The
/// cursor is `<file>:<byte offset>`, so a page is read from where the last one ended. `location` is the
/// folder, or one file; a stream's `path` is the pattern of its files (`*.jsonl`).
public struct FolderSource: SourceAdapter {
    public let definition: AdapterDefinition
    /// The definition's streams, under the names given to `init`.
    public let streams: [SourceStream]
    /// The drop folder, or one file.
    public let location: URL
    let pageSize: Int

    /// `stream` renames the definition's first stream (it names the cursor: one folder read twice under
    /// two names is read twice).
    public init(definition: AdapterDefinition, location: URL, pageSize: Int? = nil, stream: String? = nil) {
        self.definition = definition
        self.location = location
        self.pageSize = pageSize ?? definition.paging.pageSize
        var streams = definition.streams
        if let stream, !streams.isEmpty { streams[0].name = stream }
        self.streams = streams
    }

    public var system: SourceSystemID { definition.system }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        let files = try Self.files(at: location, matching: stream.path ?? "*")
        let (startFile, startOffset) = Self.position(cursor)
        for file in files where startFile == nil || file.lastPathComponent >= startFile! {
            let offset = file.lastPathComponent == startFile ? startOffset : 0
            let (body, end, atEnd) =
                definition.format == .jsonLines
                ? try Self.lines(of: file, from: offset, count: pageSize) : try Self.rest(of: file, from: offset)
            guard !body.isEmpty else {
                // A line still being written holds the stream at this file; a file read to its end gives way to the next.
                let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.uint64Value ?? 0
                if end < size { return SourcePage(payloads: [], cursor: "\(file.lastPathComponent):\(offset)", hasMore: false) }
                continue
            }
            let payload = FetchedPayload(name: "\(file.lastPathComponent):\(offset)", contentType: definition.format.mediaType, body: body)
            let isLast = atEnd && file == files.last
            return SourcePage(payloads: [payload], cursor: "\(file.lastPathComponent):\(end)", hasMore: !isLast)
        }
        return SourcePage(payloads: [], cursor: cursor, hasMore: false)
    }

    /// The files at `location` whose names match `pattern` (`*` for any run of characters), in name order.
    static func files(at location: URL, matching pattern: String) throws -> [URL] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isFolder) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: location.path])
        }
        guard isFolder.boolValue else { return [location] }
        return try FileManager.default.contentsOfDirectory(at: location, includingPropertiesForKeys: nil)
            .filter { fnmatch(pattern, $0.lastPathComponent, 0) == 0 }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func position(_ cursor: String?) -> (file: String?, offset: UInt64) {
        guard let cursor, let colon = cursor.lastIndex(of: ":"), let offset = UInt64(cursor[cursor.index(after: colon)...]) else {
            return (nil, 0)
        }
        return (String(cursor[..<colon]), offset)
    }

    /// The bytes of `file` from `offset` to its end.
    static func rest(of file: URL, from offset: UInt64) throws -> (body: [UInt8], end: UInt64, atEnd: Bool) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let body = [UInt8](try handle.readToEnd() ?? Data())
        return (body, offset + UInt64(body.count), true)
    }

    /// How long a file must have been left alone before a last line without its newline is taken:
    /// until then the exchange may still be writing it.
    static let settledAfter: TimeInterval = 5

    /// Up to `count` whole lines of `file` from byte `offset`: their bytes, the offset after them,
    /// and whether the file ends there. A last line without its newline is taken once the file has not
    /// changed for `settledAfter`; before, the page ends at the last newline and the line is read whole
    /// later.
    static func lines(of file: URL, from offset: UInt64, count: Int) throws -> (body: [UInt8], end: UInt64, atEnd: Bool) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        var body: [UInt8] = []
        var lines = 0
        while lines < count {
            guard let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty else {
                let modified = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
                if body.last != UInt8(ascii: "\n"), let modified, Date().timeIntervalSince(modified) < settledAfter {
                    body = Array(body[..<(body.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)])
                }
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
