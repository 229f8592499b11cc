import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongHub
import LiandongMapping
import LiandongModel
import LiandongSimulator
import LiandongSync
import LiandongTestKit
import LiandongTestSupport
import Testing

@Suite(.tags(.database), .runsWithDatabase, .serialized) struct CommandLineTests {
    /// The README's first command on an empty data directory: its own PostgreSQL, the simulators,
    /// one full cycle; then the tour's commands on the same data directory.
    @Test func demoOnceThenStatsAndAuditVerify() async throws {
        let dataDirectory = Scratch.path("demo")
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": ""])
        let demo = try await cli.run(["demo", "--once", "--listen", "127.0.0.1:0", "--data-dir", dataDirectory.path])
        #expect(demo.status == 0, "\(demo.stderr)")
        let stats = try await cli.run(["stats", "--json", "--data-dir", dataDirectory.path])
        #expect(stats.status == 0, "\(stats.stderr)")
        let parsed = try JSONDecoder().decode(Inspection.Stats.self, from: Data(stats.stdout.utf8))
        for kind in ["work_order", "fire_alarm", "warning"] {
            #expect((parsed.entities[kind] ?? 0) > 0, "\(kind): \(parsed.entities)")
        }
        #expect((parsed.failures["open"] ?? 0) > 0, "the demo's injected malformed record is quarantined")
        let verify = try await cli.run(["audit", "verify", "--data-dir", dataDirectory.path])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("verified"))
        let errors = try await cli.run(["errors", "list", "--json", "--data-dir", dataDirectory.path])
        #expect(errors.status == 0)
        #expect(errors.stdout.contains("\"rule\""))
        // The database folders' spoiled rows are quarantined too, and Yunnan's police matters went
        // into the exchange database's table.
        for source in ["water", "police-110-exchange"] {
            #expect(errors.stdout.contains("\"\(source)\""), "a row of \(source) quarantined")
        }
        let exchange = try await cli.run(["deliveries", "list", "--target", "police-110-exchange", "--json", "--data-dir", dataDirectory.path])
        #expect(exchange.status == 0, "\(exchange.stderr)")
        let transfers = try #require(try FieldValue(jsonText: exchange.stdout).arrayValue)
        #expect(!transfers.isEmpty && transfers.allSatisfy { $0.objectValue?["status"] == .string("delivered") }, "\(exchange.stdout)")
        // At most one open link candidate per report, and far fewer reports asking than reports.
        let listed = try await cli.run(["incidents", "candidates", "list", "--json", "--data-dir", dataDirectory.path])
        #expect(listed.status == 0, "\(listed.stderr)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let candidates = try decoder.decode([IncidentStore.Candidate].self, from: Data(listed.stdout.utf8))
        #expect(Set(candidates.map(\.report)).count == candidates.count, "one candidate per report")
        let reports = ["work_order", "fire_alarm", "police_ticket", "ambulance_call", "bureau_incident"].reduce(0) {
            $0 + (parsed.entities[$1] ?? 0)
        }
        #expect(candidates.count * 10 <= reports, "\(candidates.count) open candidates on \(reports) reports")
        try await splitMergeAndRebuild(cli, dataDirectory.path)
    }

    /// On the demo's database: split a report out of a linked incident and merge it back, with the audit
    /// chain intact; then `rebuild` reproduces the digest, the admin's decisions included.
    func splitMergeAndRebuild(_ cli: CommandLineRunner, _ dataDirectory: String) async throws {
        func json<T: Decodable>(_ type: T.Type, _ arguments: [String]) async throws -> T {
            let result = try await cli.run(arguments + ["--json", "--data-dir", dataDirectory])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(T.self, from: Data(result.stdout.utf8))
        }
        let incidents = try await json([IncidentStore.IncidentSummary].self, ["incidents", "list"])
        let linked = try #require(incidents.first { $0.reports.count >= 2 }, "the demo links reports of one event")
        let file = try await json(IncidentStore.IncidentFile.self, ["incidents", "show", "\(linked.no)"])
        #expect(Set(file.reports.map(\.report)) == Set(linked.reports))
        #expect(file.audit.contains { $0.action == "incident.link" })
        let report = linked.reports[1]
        let split = try await cli.run(["incidents", "split", report, "--data-dir", dataDirectory])
        #expect(split.status == 0, "\(split.stderr)")
        #expect(try await json([IncidentStore.IncidentSummary].self, ["incidents"]).count == incidents.count + 1)
        let merge = try await cli.run(["incidents", "merge", "\(linked.no)", report, "--data-dir", dataDirectory])
        #expect(merge.status == 0, "\(merge.stderr)")
        let after = try await json(IncidentStore.IncidentFile.self, ["incidents", "show", "\(linked.no)"])
        #expect(Set(after.reports.map(\.report)) == Set(linked.reports))
        #expect(after.audit.contains { $0.action == "incident.split" } && after.audit.contains { $0.action == "incident.merge" })
        let verify = try await cli.run(["audit", "verify", "--data-dir", dataDirectory])
        #expect(verify.status == 0, "\(verify.stdout)")
        let before = try await json(Inspection.Stats.self, ["stats"])
        let rebuild = try await cli.run(["rebuild", "--data-dir", dataDirectory])
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        let rebuilt = try await json(Inspection.Stats.self, ["stats"])
        #expect(rebuilt.digest == before.digest)
        #expect(rebuilt.incidents == before.incidents)
        #expect(try await cli.run(["audit", "verify", "--data-dir", dataDirectory]).status == 0)
    }

    /// `bench identity` on two hours of a generated city: the real path, page by page, scored against
    /// the true events (the six-hour figures are in docs/incidents.md).
    @Test func identityBenchOnTwoHoursOfACity() async throws {
        let result = try await CommandLineRunner().run(["bench", "identity", "--hours", "2", "--city", "chengdu", "--seed", "11", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let evaluation = try JSONDecoder().decode(IdentityOutcome.self, from: Data(result.stdout.utf8)).evaluation
        #expect(result.stdout.contains("\"quarantined\" : 0"), "every generated report maps")
        #expect(evaluation.truePairs >= 20, "the day has reports of one event from several agencies")
        #expect(evaluation.precision >= 0.95, "\(evaluation.wrongPairs)")
        #expect(evaluation.recall >= 0.85, "\(evaluation.missedPairs)")
        #expect(evaluation.reviewLoad <= 0.05)
        #expect(evaluation.largestIncident <= 4, "no chains")
    }

    struct IdentityOutcome: Decodable {
        var evaluation: CityDay.Evaluation
    }

    /// kill -9 in the middle of a large sync, then a rerun: the same digest as an uninterrupted run,
    /// no audit entry doubled, the chain intact.
    @Test func killedMidSyncThenRerunEqualsACleanRun() async throws {
        let simulator = AgencySimulator(.init(agency: .hotline, seed: 99, records: 1500))
        try await simulator.withRunning { simulator in
            let clean = try await TestDatabase.withFreshHub(policies: try MappingFixture.repositoryCatalog().policies) { hub in
                let engine = SyncEngine(hub: hub, catalog: try MappingFixture.repositoryCatalog(), logger: hub.logger)
                _ = try await engine.sync(try simulator.makeAdapter(pageSize: 10))
                return try await hub.inspection.stats()
            }

            let location = try await TestDatabase.makeFreshDatabase()
            let config = Scratch.path("config", extension: "yaml")
            try """
                sources:
                  hotline-12345: {url: "\(simulator.baseURL!)", token_env: SIM_TOKEN, page_size: 10}
                """.write(to: config, atomically: true, encoding: .utf8)
            let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url, "SIM_TOKEN": simulator.configuration.token])
            let (pid, killed, _) = try cli.start(["sync", "--once", "--config", config.path])
            let killedAt = try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
                // Wait until some pages are committed, then kill without warning.
                try await eventually("150 work orders are in", within: .seconds(60), poll: .milliseconds(20)) {
                    try await hub.inspection.stats().entities["work_order"] ?? 0 >= 150
                }
                kill(pid, SIGKILL)
                _ = try await killed.value
                return try await hub.inspection.stats().entities["work_order"] ?? 0
            }
            #expect(try await killed.value.killedBySignal)
            #expect(killedAt > 0 && killedAt < clean.entities["work_order"]!, "killed mid-sync at \(killedAt)")

            let rerun = try await cli.run(["sync", "--once", "--config", config.path])
            #expect(rerun.status == 0, "\(rerun.stderr)")
            try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
                let stats = try await hub.inspection.stats()
                #expect(stats.digest == clean.digest)
                #expect(stats.entities == clean.entities)
                #expect(stats.auditHead == clean.auditHead, "no audit entry doubled")
                #expect(try await hub.audit.verify().firstBad == nil)
            }
        }
    }

    @Test func wrongConfigurationNamesFileKeyAndFix() async throws {
        let config = Scratch.path("config", extension: "yaml")
        try "sources:\n  hotline-12345: {url: \"ftp://x\"}\n".write(to: config, atomically: true, encoding: .utf8)
        let result = try await CommandLineRunner().run(["sync", "--once", "--config", config.path])
        #expect(result.status == 2, "wrong configuration: could not run")
        #expect(result.stderr.contains(config.path))
        #expect(result.stderr.contains("sources.hotline-12345.url"))
        #expect(result.stderr.contains("http://"))
    }

    @Test func mappingTestPrintsRecordsOrFailures() async throws {
        let ok = try await CommandLineRunner().run([
            "mapping", "test", "--source", "weather", Repository.samples.appendingPathComponent("cap/google-cap-library/thunderstorm.cap").path,
        ])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("KSTO1055887203"))
        let refused = try await CommandLineRunner().run([
            "mapping", "test", "--json", "--source", "weather", Repository.samples.appendingPathComponent("cap/google-cap-library/xee.cap").path,
        ])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("doctype"))
    }

    /// Commands that only read need no `Mappings/` (an audit on a restore host); a command that
    /// decides says which folder it could not read.
    @Test func readingCommandsNeedNoMappings() async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        let config = Scratch.path("config", extension: "yaml")
        try "mappings: /no/such/mappings\n".write(to: config, atomically: true, encoding: .utf8)
        let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url])
        for command in [["stats"], ["audit", "verify"], ["incidents", "list"], ["errors", "list"]] {
            let result = try await cli.run(command + ["--config", config.path])
            #expect(result.status == 0, "\(command): \(result.stderr)")
        }
        let deciding = try await cli.run(["incidents", "split", "police-110:1", "--config", config.path])
        #expect(deciding.status == 2 && deciding.stderr.contains("/no/such/mappings"), "\(deciding.stderr)")
    }

    /// One meaning per exit status, listed where people look: 1 found problems, 2 could not run, 64 usage.
    @Test func helpListsTheExitStatusesEveryCommandUses() async throws {
        let help = try await CommandLineRunner().run(["help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit status") && help.stdout.contains("2 could not run") && help.stdout.contains("64 wrong command line"))
        #expect(try await CommandLineRunner().run(["incidents", "list", "--no-such-flag"]).status == 64)
    }

    @Test func coordsConvertPrintsNineDecimals() async throws {
        let result = try await CommandLineRunner().run(["coords", "convert", "--from", "wgs84", "--to", "gcj02", "39.9087243", "116.39748"])
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "39.910127796 116.403723572")
    }
}

@Suite struct ConfigurationTests {
    /// The exchange source reads a drop folder; an HTTP URL is refused naming the key.
    /// Run from the wrong folder, the catalog names the folder it looked for and how to point at it.
    @Test func aMissingMappingsFolderIsNamed() {
        let missing = Scratch.path("no-mappings")
        #expect {
            try MappingCatalog(directory: missing)
        } throws: { error in
            let error = error as? MappingCatalog.LoadError
            return error?.code == .unreadable && error?.file == missing.path && error?.message.contains("'mappings:'") == true
        }
    }

    @Test func theExchangeTakesAFolderNotAnHTTPURL() throws {
        let config = Scratch.path("config", extension: "yaml")
        try "sources:\n  exchange: {url: \"http://x\"}\n".write(to: config, atomically: true, encoding: .utf8)
        #expect {
            try HubConfiguration(file: config, dataDirectory: nil, environment: [:])
        } throws: { error in
            let error = error as? HubConfiguration.Error
            return error?.code == .invalid && error?.key == "sources.exchange.url" && error?.message.contains("drop folder") == true
        }
        try "sources:\n  exchange: {url: /srv/exchange, page_size: 500}\n".write(to: config, atomically: true, encoding: .utf8)
        #expect(try HubConfiguration(file: config, dataDirectory: nil, environment: [:]).sources["exchange"]?.pageSize == 500)
        // A file: URL is read as a URL, percent escapes included.
        let adapter = try AdapterCatalog.repository().make("exchange", baseURL: "file:///srv/drop%20folder", token: nil, logger: TestDatabase.logger)
        #expect((adapter as? FolderSource)?.location.path == "/srv/drop folder")
    }

    /// The documented example stays loadable: every key it shows is one the loader knows.
    @Test func exampleConfigurationLoads() throws {
        let file = Repository.root.appendingPathComponent("Deploy/liandong.example.yaml")
        let configuration = try HubConfiguration(file: file, dataDirectory: nil, environment: [:])
        #expect(configuration.sources.keys.sorted() == (try AdapterCatalog.repository().systems.sorted()))
        #expect(configuration.syncInterval == 30)
        #expect(configuration.mappingsDirectory.standardizedFileURL == Repository.mappings.standardizedFileURL)
        #expect(configuration.sources["hotline-12345"]?.credentials == ["token": "LIANDONG_HOTLINE_12345_TOKEN"])
        #expect(configuration.sources["fire-119"]?.overlap == 30)
        #expect(configuration.sources["fire-119"]?.schedule == Schedule(.every(15), jitter: 3))
        #expect(configuration.sources["weather"]?.schedule?.kind == .cron(try CronExpression("*/2 * * * *")))
        #expect(configuration.serve.leaseSeconds == 30)
    }

    /// A source this build has no adapter for, and a secret the environment lacks, say so by their codes.
    @Test func unknownSourcesAndMissingSecretsHaveTheirCodes() throws {
        let file = Scratch.path("config", extension: "yaml")
        try "sources:\n  water-bureau: {url: http://x}\n".write(to: file, atomically: true, encoding: .utf8)
        #expect { try HubConfiguration(file: file, dataDirectory: nil, environment: [:]) } throws: { error in
            (error as? HubConfiguration.Error)?.code == .unknownSource
        }
        let settings = HubConfiguration.Source(url: "http://127.0.0.1:9", credentials: ["token": "NO_SUCH_TOKEN"], timeoutSeconds: 1, attempts: 1)
        #expect { try AdapterCatalog.repository().make("hotline-12345", settings: settings, environment: [:], logger: TestDatabase.logger) } throws: { error in
            (error as? HubConfiguration.Error).map { $0.code == .missingSecret && $0.key == "NO_SUCH_TOKEN" } == true
        }
    }

    @Test(arguments: [
        ("colour: red\n", "colour", "unknown key"),
        ("sync: {interval_seconds: -1}\n", "sync.interval_seconds", "expected a number"),
        ("sources:\n  water-bureau: {url: http://x}\n", "sources.water-bureau", "hotline-12345"),
        ("database: {url: mysql://x}\n", "database.url", "postgres://"),
        ("sources:\n  fire-119: {url: http://x, cron: \"61 * * * *\"}\n", "sources.fire-119.cron", "minute"),
        ("sources:\n  fire-119: {url: http://x, every: 5s, cron: \"* * * * *\"}\n", "sources.fire-119.cron", "not both"),
        ("sources:\n  fire-119: {url: http://x, every: soon}\n", "sources.fire-119.every", "30s"),
        ("serve: {listen: localhost}\n", "serve.listen", "host:port"),
        ("delivery: {max_attempts: 0}\n", "delivery.max_attempts", "from 1.0 to 1000.0"),
        ("delivery: {initial_backoff: soon}\n", "delivery.initial_backoff", "30s"),
        ("delivery: {backoff: 2s}\n", "delivery.backoff", "max_attempts"),
        ("sync: {interval_seconds: soon}\n", "sync.interval_seconds", "expected a number"),
        ("serve: {listen: [127.0.0.1]}\n", "serve.listen", "a single value"),
        ("sources: [fire-119]\n", "sources", "a map of keys"),
        ("sources:\n  fire-119: {page_size: 10}\n", "sources.fire-119.url", "required"),
        ("serve: {instance: \"\"}\n", "serve.instance", "non-empty"),
        ("sources:\n  hotline-12345: {url: http://x, token_env: \"\"}\n", "sources.hotline-12345.token_env", "non-empty"),
        ("sources:\n  police-110: {url: http://x, credentials: {token: T}}\n", "sources.police-110.credentials.token", "no credentials"),
        ("sources:\n  fire-119: {url: http://x, overlap: soon}\n", "sources.fire-119.overlap", "30s"),
    ])
    func mistakesNameTheKey(text: String, key: String, hint: String) throws {
        let file = Scratch.path("config", extension: "yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        #expect {
            try HubConfiguration(file: file, dataDirectory: nil, environment: [:])
        } throws: { error in
            let text = "\(error)"
            return text.contains(file.path) && text.contains("'\(key)'") && text.contains(hint)
        }
    }
}

@Suite(.tags(.database), .runsWithDatabase) struct FileIngestTests {
    /// Every CAP sample through `liandong ingest`: the valid ones stored, the others quarantined with a
    /// reason, nothing crashing; a second ingest of the same files changes nothing.
    @Test func capSamplesIngestOrQuarantine() async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        let folder = Repository.samples.appendingPathComponent("cap")
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".cap") || $0.hasSuffix(".xml") }.sorted()
            .map { folder.appendingPathComponent($0).path }
        #expect(files.count >= 6)
        let cli = CommandLineRunner(environment: ["LIANDONG_DATABASE_URL": location.url])
        let first = try await cli.run(["ingest", "--source", "weather"] + files)
        #expect(first.status == 0, "\(first.stderr)")
        let again = try await cli.run(["ingest", "--source", "weather"] + files)
        #expect(again.stdout.contains("new 0, identical to earlier \(files.count)"), "\(again.stdout)")
        try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            let stats = try await hub.inspection.stats()
            #expect(stats.entities["warning"] == 2)
            #expect(stats.rawPayloads == files.count)
            let rules = Set(try await hub.quarantine.groups(source: "weather").map(\.rule))
            #expect(rules == ["namespace", "doctype", "required"])
            #expect(try await hub.audit.verify().firstBad == nil)
        }

        let show = try await cli.run(["show", "weather:KSTO1055887203"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("warning "))
        #expect(show.stdout.contains("  sender: KSTO@NWS.NOAA.GOV"))
        let trace = try await cli.run(["audit", "trace", "weather:KSTO1055887203"])
        #expect(trace.stdout.contains("insert from weather via weather/cap-alert@v1"), "\(trace.stdout)")
        #expect(trace.stdout.contains("msg_type: ∅ → Alert"))
        let missing = try await cli.run(["show", "weather:nope"])
        #expect(missing.status == 2, "an entity that is not there: could not run")
        #expect(missing.stderr.contains("no entity weather:nope"))

        let failureID = try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            try #require(try await hub.quarantine.groups(source: "weather").first { $0.rule == "doctype" }?.ids.first)
        }
        let failure = try await cli.run(["errors", "show", "\(failureID)"])
        #expect(failure.stdout.contains("/: doctype"))
        #expect(failure.stdout.contains("<!DOCTYPE alert"), "the payload is shown as received")
    }
}
