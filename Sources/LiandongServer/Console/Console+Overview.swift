import Foundation
import Hummingbird
import LiandongHub
import LiandongModel

extension Console {
    /// The overview: streams, deliveries, open failures, identity work, overdue loops, the audit head,
    /// and the last 24 hours as charts.
    struct OverviewData: Codable {
        var streams: [StreamStore.StreamStatus]
        var counts: Inspection.Overview
        var activity: [Inspection.ActivityMinute]
    }

    func overview(_ context: ConsoleContext) async throws -> OverviewData {
        let scope = try requireAny(.read, context, "read the overview")
        let since = Date().addingTimeInterval(-24 * 3600)
        var counts = try await hub.inspection.overview(sources: scope)
        if let scope { counts.deliveries = counts.deliveries.filter { scope.contains($0.key) } }
        return OverviewData(
            streams: try await streams(context), counts: counts,
            activity: try await hub.inspection.activity(since: since))
    }

    func addOverviewRoutes(to router: Router<ConsoleContext>) {
        router.get("api/v1/overview") { _, context in json(try await overview(context)) }
        router.get("/") { _, context -> Response in
            let data = try await overview(context)
            let deliveries = data.counts.deliveries.sorted { $0.key < $1.key }.map { target, counts in
                [
                    "target": target, "pending": counts["pending"] ?? 0, "failed": counts["failed"] ?? 0, "dead": counts["dead"] ?? 0,
                    "expired": counts["expired"] ?? 0, "awaiting": counts[DeliveryStatus.awaitingApproval.rawValue] ?? 0,
                ] as [String: Any]
            }
            let streams = data.streams.map { s -> [String: Any] in
                var row: [String: Any] = ["source": s.source, "stream": s.stream, "paused": s.paused, "failures": s.consecutiveFailures]
                row["lastRun"] = s.lastRun
                row["nextRun"] = s.nextRun
                row["lag"] = s.lagSeconds.map(Self.duration)
                row["holder"] = s.holder
                row["error"] = s.lastError
                return row
            }
            return page(
                "overview", title: "总览", section: "/", context,
                [
                    "streams": streams, "deliveries": deliveries, "failures": data.counts.openFailures, "counts": data.counts,
                    "failureTotal": data.counts.openFailures.reduce(0) { $0 + $1.count },
                    "recordsChart": Chart.bars(data.activity.map { ($0.minute, Double($0.records)) }, unit: "条/分钟"),
                    "lagChart": Chart.bars(data.activity.compactMap { m in m.lagSeconds.map { (m.minute, $0) } }, unit: "秒"),
                ])
        }
    }

    /// `95 s`, `12 min`, `3.5 h`, `2.0 d`.
    static func duration(_ seconds: Double) -> String {
        switch abs(seconds) {
        case ..<120: String(format: "%.0f 秒", seconds)
        case ..<7200: String(format: "%.0f 分钟", seconds / 60)
        case ..<172_800: String(format: "%.1f 小时", seconds / 3600)
        default: String(format: "%.1f 天", seconds / 86400)
        }
    }
}

/// Charts drawn on the server as inline SVG: no script, no library, nothing fetched.
enum Chart {
    /// A bar per minute over the last 24 hours (the newest at the right), scaled to the largest value,
    /// with the largest value and the time span labelled.
    static func bars(_ points: [(Date, Double)], unit: String, now: Date = Date()) -> String {
        let width = 720.0, height = 120.0
        let start = now.addingTimeInterval(-24 * 3600)
        let top = max(points.map(\.1).max() ?? 0, 1)
        var bars = ""
        for (at, value) in points where at >= start {
            let x = (at.timeIntervalSince(start) / (24 * 3600)) * width
            let h = max(1, value / top * (height - 20))
            bars += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"1.5\" height=\"%.1f\"/>", x, height - h, h)
        }
        let label = points.isEmpty ? "近 24 小时无数据" : String(format: "最大 %.0f %@", top, unit)
        return """
            <svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(label)"><title>\(label)</title>\
            <text x="4" y="12">\(label)</text><text x="\(Int(width) - 4)" y="12" text-anchor="end">\(ConsoleTime.text(now).prefix(16))</text>\
            <g>\(bars)</g></svg>
            """
    }
}
