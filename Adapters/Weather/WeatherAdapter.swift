import Foundation
import LiandongAdapterKit
import LiandongMapping
import LiandongModel
import Logging

/// A weather office's CAP 1.2 feed: an Atom index (`/cap/feed?after=N`) whose entries link to CAP
/// documents, each fetched and kept as its own payload. The cursor is the last entry's number.
public struct WeatherAdapter: SourceAdapter {
    public static let system: SourceSystemID = "weather"
    public static let streams = [SourceStream(name: "warnings", mapping: "weather/cap-alert")]
    let transport: HTTPTransport

    public init(transport configuration: HTTPTransport.Configuration, logger: Logger) {
        transport = HTTPTransport(system: "weather", configuration: configuration, logger: logger)
    }

    public func pull(_ stream: SourceStream, after cursor: String?) async throws -> SourcePage {
        let feed = try await transport.get("/cap/feed" + queryString([("after", cursor ?? "0")]))
        guard let document = PageReader.document(feed, format: .xml), let root = document.select("feed").first else {
            throw AdapterError(.unreadable, system: system, "the CAP feed index is not readable XML")
        }
        var payloads: [FetchedPayload] = []
        for entry in root.select("entry") {
            guard let href = entry.select("link.@href").first?.text, href.hasPrefix("/") else { continue }
            payloads.append(try await transport.get(href))
        }
        let next = root.select("@next").first?.text ?? cursor
        return SourcePage(payloads: payloads, cursor: next, hasMore: payloads.count >= 50)
    }
}
