import ArgumentParser
import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSimulator
import LiandongSync

/// `liandong bench identity`: a labelled synthetic city day (`CityDay`) ingested through the real path —
/// each agency's native documents, its mapping, identity resolution — page by page in the order the
/// hub would pull them, then the incidents formed compared with the true events.
struct IdentityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Ingest a labelled synthetic city day and score incident identity against the true events.",
        discussion: """
            Prints pairwise precision and recall (two reports in one incident against two reports of one \
            event), the review load (reports with an open link candidate), a summary per kind of event, the \
            pairs joined wrongly by kinds, and records/s with the identity time per report for each hour \
            of the day (flat when the per-report cost does not grow with what the hub holds).
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: BenchDatabase
    @Option(help: "Hours of the city day.") var hours: Double = 6
    @Option(help: "The generator's seed.") var seed: UInt64 = 1
    @Option(help: "The city: \(CityDay.City.all.map(\.name).joined(separator: ", ")).") var city = CityDay.City.all[0].name
    @Option(help: "Volumes as a multiple of the default (12345 1,700, 110 730, 120 450, 119 20 per six hours).")
    var scale: Double = 1
    @Option(help: "Hotspots, where a share of the day's events cluster.") var hotspots = CityDay.Configuration().hotspots
    @Option(help: "Share of events near a hotspot.") var hotspotShare = CityDay.Configuration().hotspotShare
    @Option(help: "Metres from a hotspot's centre its events happen within.") var hotspotRadius = CityDay.Configuration().hotspotRadius
    @Option(help: "Minutes of the day per page: each source's reports arriving in that span are one page.")
    var pageMinutes: Double = 10
    @OptionGroup var output: OutputOptions
    @Option(help: "Also write the true events to this file, a line per report: source:id, event, kind (tab-separated).")
    var truth: String?

    /// The run's outcome.
    struct Report: Codable {
        var city: String
        var seed: UInt64
        var hours: Double
        var generated: Int
        var quarantined: Int
        var pages: Int
        var wallSeconds: Double
        var recordsPerSecond: Double
        /// Identity (`resolve` stage) milliseconds per report, hour by hour of the day.
        var resolveMillisecondsPerReport: [Double]
        var evaluation: CityDay.Evaluation
    }

    func validate() throws {
        guard hours > 0, scale > 0, pageMinutes > 0 else { throw ValidationError("--hours, --scale and --page-minutes must be positive") }
        guard CityDay.City.named(city) != nil else {
            throw ValidationError("--city \(city): not a city of the generator; one of \(CityDay.City.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() async throws {
        var configuration = CityDay.Configuration()
        configuration.seed = seed
        configuration.hours = hours
        configuration.city = CityDay.City.named(city)!
        configuration.hotspots = hotspots
        configuration.hotspotShare = hotspotShare
        configuration.hotspotRadius = hotspotRadius
        configuration.hotline = Int((Double(configuration.hotline) * scale).rounded())
        configuration.police = Int((Double(configuration.police) * scale).rounded())
        configuration.ambulance = Int((Double(configuration.ambulance) * scale).rounded())
        configuration.fire = Int((Double(configuration.fire) * scale).rounded())
        let day = CityDay(configuration)
        if let truth {
            let lines = day.reports.map { "\($0.key)\t\($0.event)\t\($0.kind)\n" }.joined()
            try Data(lines.utf8).write(to: URL(fileURLWithPath: truth))
        }
        let runtime = try Runtime(global)
        let catalog = try runtime.catalog()
        let report = try await database.withHub(runtime) { hub in
            try await measure(day, hub: hub, catalog: catalog, runtime: runtime)
        }
        if output.json {
            try printJSON(report)
        } else {
            Self.print(report)
        }
    }

    private func measure(_ day: CityDay, hub: Hub, catalog: MappingCatalog, runtime: Runtime) async throws -> Report {
        let clock = StageClock()
        let engine = SyncEngine(hub: hub, catalog: catalog, logger: runtime.logger, clock: clock)
        let agencies = try runtime.adapters()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("liandong-identity-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pages = day.pages(every: pageMinutes)
        var quarantined = 0
        var perHour: [Double] = []
        var hourStart = (resolve: 0.0, reports: 0)
        var ingested = 0
        let started = ContinuousClock.now
        for page in pages {
            let hour = Int(Double(page.number) * pageMinutes / 60)
            while perHour.count < hour {
                let resolve = clock.seconds[.resolve] ?? 0
                perHour.append(Self.perReport(resolve - hourStart.resolve, ingested - hourStart.reports))
                hourStart = (resolve, ingested)
            }
            let file = folder.appendingPathComponent("\(page.number)-\(page.source)")
            try Data(page.document).write(to: file)
            let summary = try await engine.ingestFiles([file], from: try agencies.definition(page.source))
            quarantined += summary.failures
            ingested += page.reports.count
        }
        perHour.append(Self.perReport((clock.seconds[.resolve] ?? 0) - hourStart.resolve, ingested - hourStart.reports))
        let wall = ContinuousClock.now - started
        let seconds = wall.seconds
        var incidentOf: [String: String] = [:]
        for incident in try await hub.incidents.list() {
            for report in incident.reports { incidentOf[report] = incident.id.uuidString }
        }
        let candidates = Set(try await hub.incidents.candidates(openOnly: true).map(\.report))
        return Report(
            city: day.configuration.city.name, seed: day.configuration.seed, hours: day.configuration.hours, generated: day.reports.count,
            quarantined: quarantined, pages: pages.count, wallSeconds: seconds, recordsPerSecond: Double(day.reports.count) / seconds,
            resolveMillisecondsPerReport: perHour,
            evaluation: CityDay.Evaluation(reports: day.reports, incidentOf: incidentOf, candidates: candidates))
    }

    static func perReport(_ seconds: Double, _ reports: Int) -> Double {
        reports == 0 ? 0 : (seconds * 1000 / Double(reports) * 100).rounded() / 100
    }

    static func print(_ report: Report) {
        let e = report.evaluation
        let percent = { (x: Double) in String(format: "%.1f %%", x * 100) }
        Swift.print(
            """
            \(report.city), seed \(report.seed), \(report.hours) h: \(report.generated) reports generated, \(report.quarantined) quarantined, \
            \(report.pages) pages in \(String(format: "%.1f", report.wallSeconds)) s = \(Int(report.recordsPerSecond.rounded())) records/s
            incidents \(e.incidents) (largest \(e.largestIncident) reports); true pairs \(e.truePairs), joined \(e.joinedPairs), correct \(e.correctPairs)
            precision \(String(format: "%.4f", e.precision)), recall \(String(format: "%.4f", e.recall)), review load \(percent(e.reviewLoad))
            identity ms per report, hour by hour: \(report.resolveMillisecondsPerReport.map { String(format: "%.2f", $0) }.joined(separator: " "))
            kind            reports  true pairs  found  missed  wrong  with candidate
            """)
        for kind in e.kinds {
            Swift.print(
                kind.kind.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + [kind.reports, kind.truePairs, kind.found, kind.missed, kind.wrong, kind.withCandidate]
                    .map { String($0).leftPadded(to: 7) }.joined(separator: "  "))
        }
        if !e.confusions.isEmpty {
            Swift.print("joined wrongly: " + e.confusions.prefix(8).map { "\($0.kinds) \($0.pairs)" }.joined(separator: ", "))
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
