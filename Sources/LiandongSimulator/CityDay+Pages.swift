import Foundation

extension CityDay {
    /// What one pull of one source brings: its reports arriving in one span of the day.
    public struct Page: Sendable {
        /// The span's number from the start of the day.
        public var number: Int
        public var source: String
        public var reports: [Report]
        /// The page in the agency's native format.
        public var document: [UInt8] { CityDay.document(reports, source: source) }
    }

    /// The day as the hub would pull it every `minutes`: each source's reports arriving in a span, in
    /// time order, then by source.
    public func pages(every minutes: Double) -> [Page] {
        let span = minutes * 60
        let grouped = Dictionary(grouping: reports) { report in
            PageKey(number: Int((report.arrives.timeIntervalSince(configuration.start) / span).rounded(.down)), source: report.source)
        }
        return grouped.keys.sorted().map { Page(number: $0.number, source: $0.source, reports: grouped[$0]!) }
    }

    private struct PageKey: Hashable, Comparable {
        var number: Int
        var source: String
        static func < (l: PageKey, r: PageKey) -> Bool { (l.number, l.source) < (r.number, r.source) }
    }
}
