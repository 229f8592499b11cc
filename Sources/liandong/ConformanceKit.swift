import AsyncHTTPClient
import Foundation
import LiandongAdapterKit
import LiandongConfiguration
import LiandongMapping
import LiandongModel
import LiandongSimulator
import Logging
import NIOCore
import PostgresNIO

/// The conformance kit `adapter check` runs: what an agency folder must do for the hub to trust it,
/// each check a row that passes, fails or is skipped with its reason. The folder's own checks need
/// nothing running; the reading, fault and delivery checks run against a system (the folder's
/// samples served by `FolderSimulator`, or the live one), through the same adapter the hub uses.
struct ConformanceKit {
    /// One row of the table.
    struct Check: Encodable {
        enum Result: String, Encodable { case pass, fail, skipped }
        var check: String
        var stream: String
        var result: Result
        var detail: String
    }

    /// Asks a running system for a fault in its next `count` answers of `stream` (or of its inbox);
    /// false when it cannot be made to give that fault. A count of 0 only asks.
    typealias InjectFault = @Sendable (_ fault: Fault, _ count: Int, _ inbox: Bool, _ stream: String) async -> Bool

    let definition: AdapterDefinition
    let catalog: MappingCatalog
    private(set) var checks: [Check] = []

    init(definition: AdapterDefinition, catalog: MappingCatalog) {
        self.definition = definition
        self.catalog = catalog
    }

    var failed: Bool { checks.contains { $0.result == .fail } }

    mutating func record(_ check: String, _ stream: String = "", _ result: Check.Result, _ detail: String) {
        checks.append(Check(check: check, stream: stream, result: result, detail: detail))
    }

    /// `pass` or `fail` by `ok`, with the detail for each.
    mutating func expect(_ check: String, _ stream: String, _ ok: Bool, pass: String, fail: String) {
        record(check, stream, ok ? .pass : .fail, ok ? pass : fail)
    }

    // MARK: The folder

    /// Every stream's mapping exists, is this system's, and reads the format the folder declares.
    mutating func checkFolder() {
        if case .custom(let name) = definition.transport, AdapterCatalog.transports[name] == nil {
            record("transport", "", .fail, "unknown transport '\(name)'; expected http, folder or database")
        }
        let folderName = definition.folder.lastPathComponent
        expect(
            "folder", "", folderName == definition.system.rawValue, pass: "\(definition.folder.path)/adapter.yaml reads",
            fail: "the folder is named '\(folderName)' but its system is '\(definition.system)': name it after the system")
        for stream in definition.streams {
            do {
                let mapping = try catalog.mapping(named: stream.mapping)
                let format = mapping.spec.document.format
                let sameFormat = definition.paging.follow != nil || format == definition.format
                expect(
                    "mapping", stream.name, mapping.spec.source == definition.system.rawValue && sameFormat,
                    pass: "Mappings/\(stream.mapping).yaml (\(mapping.kind))",
                    fail: mapping.spec.source != definition.system.rawValue
                        ? "Mappings/\(stream.mapping).yaml says 'source: \(mapping.spec.source)', not \(definition.system)"
                        : "the mapping reads \(format) but the folder's pages are \(definition.format)")
            } catch {
                record("mapping", stream.name, .fail, "\(error)")
            }
        }
    }

    /// The configuration's entry for this system, if any, and its credentials: every variable set
    /// (their names printed, never their values).
    mutating func checkConfiguration(_ source: HubConfiguration.Source?, environment: [String: String]) {
        guard let source else {
            record("configuration", "", .skipped, "no sources.\(definition.system) in the configuration")
            return
        }
        let variables = definition.auth.variables(overriddenBy: source.credentials).map(\.variable)
        let missing = variables.filter { (environment[$0] ?? "").isEmpty }
        expect(
            "configuration", "", missing.isEmpty,
            pass: "url \(source.url)" + (variables.isEmpty ? "" : "; credentials from \(variables.joined(separator: ", "))"),
            fail: "set \(missing.joined(separator: ", ")) in the environment")
    }

    /// Every sample page maps or is quarantined with a path and rule; keys are present and unique;
    /// every source time reads; Chinese text survives its charset.
    mutating func checkSamples() {
        for stream in definition.streams {
            guard let mapping = try? catalog.mapping(named: stream.mapping) else { continue }
            let mine = definition.samples(of: stream)
            guard !mine.isEmpty else {
                record("samples map", stream.name, .fail, "no sample: put a page the agency sent in samples/\(stream.name).<ext>")
                continue
            }
            var mapped = 0
            var quarantined: [MappingFailure] = []
            var keyProblems: [String] = []
            var garbled: [String] = []
            var times: [Date] = []
            for file in mine {
                let bytes = (try? [UInt8](Data(contentsOf: file))) ?? []
                let result = mapping.map(bytes)
                if let failure = result.documentFailure { quarantined.append(failure) }
                var ids: Set<String> = []
                for outcome in result.records {
                    switch outcome {
                    case .mapped(let record):
                        mapped += 1
                        times.append(record.sourceTime)
                        if record.externalID.isEmpty { keyProblems.append("\(file.lastPathComponent): a record without its id") }
                        if !ids.insert(record.externalID + "@" + record.sourceTime.canonicalText).inserted {
                            keyProblems.append("\(file.lastPathComponent): '\(record.externalID)' twice at one time")
                        }
                        if let text = Self.garbled(record) { garbled.append("\(file.lastPathComponent): '\(text)'") }
                    case .failed(_, _, let failures): quarantined += failures
                    }
                }
                if let text = try? TextDecoding.decode(bytes, declared: nil, fallback: mapping.spec.document.encoding).text,
                    text.contains("\u{FFFD}")
                {
                    garbled.append("\(file.lastPathComponent) does not decode as \(mapping.spec.document.encoding)")
                }
            }
            let unexplained = quarantined.filter { $0.path.isEmpty }
            expect(
                "samples map", stream.name, unexplained.isEmpty && mapped + quarantined.count > 0,
                pass: "\(mapped) record(s) mapped" + (quarantined.isEmpty ? "" : ", \(quarantined.count) quarantined: "
                    + quarantined.prefix(3).map { "\($0.path) \($0.rule)" }.joined(separator: "; ")),
                fail: mapped + quarantined.count == 0 ? "the samples hold no records at the mapping's records path" : "a failure without a path")
            // A time read in the wrong zone or with day and month swapped tends to land in the future.
            if let latest = times.filter({ $0.timeIntervalSinceNow > 86_400 }).max() {
                record("times", stream.name, .fail, "a source time in the future (\(latest.canonicalText)): a wrong zone or pattern in the mapping?")
            } else if let first = times.min(), let last = times.max() {
                record(
                    "times", stream.name, .pass,
                    "source times from \(first.canonicalText) to \(last.canonicalText), read with their zone or the mapping's "
                        + "(Asia/Shanghai unless it names another)")
            }
            expect("keys", stream.name, keyProblems.isEmpty, pass: "every record has its id, once", fail: keyProblems.prefix(3).joined(separator: "; "))
            expect(
                "encoding", stream.name, garbled.isEmpty, pass: "Chinese text survives \(mapping.spec.document.encoding)",
                fail: garbled.prefix(3).joined(separator: "; "))
        }
    }

    /// A text field that looks decoded in the wrong charset (UTF-8 read as Latin-1, or GBK's 锟斤拷).
    static func garbled(_ record: CanonicalRecord) -> String? {
        for value in record.fields.values {
            guard case .string(let text) = value else { continue }
            if text.contains("锟斤拷") || text.contains("\u{FFFD}") || text.range(of: "[ÃÂåæçèéä][\u{80}-\u{BF}]", options: .regularExpression) != nil {
                return text
            }
        }
        return nil
    }

    // MARK: Reading

    /// The records a page maps to, as `id@time`, and its failures.
    func keys(of page: SourcePage, _ mapping: Mapping) -> (keys: [String], failures: [MappingFailure], documentFailed: Bool) {
        var keys: [String] = []
        var failures: [MappingFailure] = []
        var documentFailed = false
        for payload in page.payloads {
            let result = mapping.map(payload.body, declaredEncoding: payload.declaredEncoding)
            if let failure = result.documentFailure {
                failures.append(failure)
                documentFailed = true
            }
            for outcome in result.records {
                switch outcome {
                case .mapped(let record): keys.append(record.externalID + "@" + record.sourceTime.canonicalText)
                case .failed(_, _, let found): failures += found
                }
            }
        }
        return (keys, failures, documentFailed)
    }

    /// Reads `stream` from `cursor` to its end (at most 1,000 pages).
    func readAll(_ adapter: any SourceAdapter, _ stream: SourceStream, _ mapping: Mapping, from cursor: String? = nil) async throws
        -> (keys: [String], pages: Int, cursor: String?, ended: Bool)
    {
        var cursor = cursor
        var keys: [String] = []
        for pages in 1...1000 {
            let page = try await adapter.pull(stream, after: cursor)
            keys += self.keys(of: page, mapping).keys
            let moved = page.cursor != cursor
            cursor = page.cursor
            if !page.hasMore { return (keys, pages, cursor, true) }
            if !moved { return (keys, pages, cursor, false) }
        }
        return (keys, 1000, cursor, false)
    }

    /// Reading, incremental reading, resuming and faults, for every stream; `adapter(pageSize, timeout)`
    /// builds the hub's adapter for the system under test.
    mutating func checkReading(adapter make: (Int, Double) throws -> any SourceAdapter, inject: InjectFault?) async {
        for stream in definition.streams {
            guard let mapping = try? catalog.mapping(named: stream.mapping) else { continue }
            do {
                let adapter = try make(2, 5)
                let first = try await adapter.pull(stream, after: nil)
                let read = keys(of: first, mapping)
                expect(
                    "reads", stream.name, !read.documentFailed, pass: "\(read.keys.count) record(s) on the first page",
                    fail: read.failures.first.map { "\($0.path) \($0.rule): \($0.message)" } ?? "")
                let all = try await readAll(adapter, stream, mapping)
                expect(
                    "pages end", stream.name, all.ended, pass: "\(all.keys.count) record(s) in \(all.pages) page(s) of 2",
                    fail: "still 'more' after \(all.pages) page(s), or a page that did not move the cursor")
                // A read from a saved cursor returns only newer records.
                if first.hasMore, let cursor = first.cursor {
                    let next = keys(of: try await adapter.pull(stream, after: cursor), mapping).keys
                    let again = Set(next).intersection(read.keys)
                    let newest = read.keys.map { $0.split(separator: "@").last! }.max() ?? ""
                    let older = next.filter { $0.split(separator: "@").last! < newest }
                    expect(
                        "incremental", stream.name, again.isEmpty && (definition.paging.style != .updateTime || older.isEmpty),
                        pass: "the page after a saved cursor holds only newer records",
                        fail: "the page after a saved cursor repeats or goes back: \((Array(again) + older).prefix(2).joined(separator: ", "))")
                } else {
                    record("incremental", stream.name, .skipped, "one page holds every record: give more records to page through")
                }
                // A cursor far in the future returns nothing.
                if definition.paging.style == .updateTime, let sample = all.cursor.flatMap(UpdateTimeCursor.init),
                    let later = SourceTime(sample.time)?.adding(10 * 365 * 86_400)
                {
                    let future = keys(of: try await adapter.pull(stream, after: UpdateTimeCursor(time: later.text, id: "").text), mapping)
                    expect(
                        "future cursor", stream.name, future.keys.isEmpty, pass: "a cursor ten years ahead reads nothing",
                        fail: "a cursor ten years ahead read \(future.keys.count) record(s)")
                } else {
                    record("future cursor", stream.name, .skipped, "only an update-time cursor has a future")
                }
                // Reading twice changes nothing; killed after a page and resumed, nothing is missed or doubled.
                let twice = try await readAll(try make(2, 5), stream, mapping)
                expect(
                    "twice", stream.name, Set(twice.keys) == Set(all.keys), pass: "a second read from the start reads the same records",
                    fail: "a second read differs by \(Set(twice.keys).symmetricDifference(all.keys).count) record(s)")
                if first.hasMore {
                    let resumed = try await readAll(try make(2, 5), stream, mapping, from: first.cursor)
                    let together = read.keys + resumed.keys
                    let doubled = together.count - Set(together).count
                    expect(
                        "resume", stream.name, Set(together) == Set(all.keys) && doubled == 0,
                        pass: "stopped after a page and restarted from its cursor, nothing missed or doubled",
                        fail: "resumed: \(Set(all.keys).subtracting(together).count) missed, \(doubled) doubled")
                } else {
                    record("resume", stream.name, .skipped, "one page holds every record")
                }
                await checkFaults(stream, mapping, adapter: make, inject: inject, hasRecords: !all.keys.isEmpty)
            } catch {
                record("reads", stream.name, .fail, "\(error)")
            }
        }
    }

    /// A malformed page is quarantined, not fatal; 5xx and timeouts are retried.
    mutating func checkFaults(
        _ stream: SourceStream, _ mapping: Mapping, adapter make: (Int, Double) throws -> any SourceAdapter, inject: InjectFault?, hasRecords: Bool
    ) async {
        let unable =
            switch definition.transport {
            case .folder: "a drop folder has no faults to inject"
            case .database: "a table has no pages or answers to spoil, only rows"
            default: "the system takes no fault injection (POST /_faults)"
            }
        func takes(_ fault: Fault) async -> Bool { await inject?(fault, 0, false, stream.name) ?? false }
        if await takes(.truncated) {
            await checkMalformedPage(stream, mapping, adapter: make, inject: inject!)
        } else {
            record("malformed page", stream.name, .skipped, unable)
        }
        if !hasRecords {
            record("malformed record", stream.name, .skipped, "the stream holds no records to spoil")
        } else if await takes(.malformedRecord) {
            await checkMalformedRecord(stream, mapping, adapter: make, inject: inject!)
        } else {
            record("malformed record", stream.name, .skipped, unable)
        }
        for (check, fault, timeout) in [("5xx retried", Fault.serverError, 5.0), ("timeout retried", .slow, 1.0)] {
            guard await takes(fault) else {
                record(check, stream.name, .skipped, unable)
                continue
            }
            do {
                _ = await inject!(fault, fault == .serverError ? 2 : 1, false, stream.name)
                let page = try await make(2, timeout).pull(stream, after: nil)
                record(check, stream.name, .pass, "answered after the retries (\(page.payloads.count) payload(s))")
            } catch {
                record(check, stream.name, .fail, "not retried: \(error)")
            }
        }
    }

    /// A page cut short is kept for quarantine with the cursor held, not fatal.
    mutating func checkMalformedPage(
        _ stream: SourceStream, _ mapping: Mapping, adapter make: (Int, Double) throws -> any SourceAdapter, inject: InjectFault
    ) async {
        _ = await inject(.truncated, 1, false, stream.name)
        do {
            let broken = try await make(2, 5).pull(stream, after: nil)
            let outcome = keys(of: broken, mapping)
            expect(
                "malformed page", stream.name, outcome.failures.contains { !$0.path.isEmpty } && (outcome.documentFailed ? broken.cursor == nil : true),
                pass: "a page cut short is kept for quarantine (\(outcome.failures.first.map { "\($0.path) \($0.rule)" } ?? "")), the cursor held",
                fail: "a page cut short gave no failure with a path, or moved the cursor")
        } catch let error as AdapterError where definition.paging.follow != nil && error.code == .unreadable {
            // A feed's index cut short names no documents to keep: the stream reads it again next pass.
            record("malformed page", stream.name, .pass, "an index cut short is an unreadable answer, read again next pass")
        } catch {
            record("malformed page", stream.name, .fail, "a page cut short stopped the read: \(error)")
        }
    }

    /// A record the system spoils is quarantined with its field path; the page's other records map.
    mutating func checkMalformedRecord(
        _ stream: SourceStream, _ mapping: Mapping, adapter make: (Int, Double) throws -> any SourceAdapter, inject: InjectFault
    ) async {
        do {
            _ = await inject(.malformedRecord, 1, false, stream.name)
            let page = try await make(2, 5).pull(stream, after: nil)
            let outcome = keys(of: page, mapping)
            let named = outcome.failures.first { !$0.path.isEmpty && $0.path != "/" }
            expect(
                "malformed record", stream.name, named != nil,
                pass: "a bad record is quarantined at \(named.map { "\($0.path) (\($0.rule))" } ?? ""), the rest map",
                fail: "a bad record gave no failure with its field path")
        } catch {
            record("malformed record", stream.name, .fail, "a bad record stopped the read: \(error)")
        }
    }

    // MARK: Delivery

    /// The idempotency key is honoured, and refusals are told apart from transient failures.
    mutating func checkDelivery(_ target: (any TargetAdapter)?, inject: InjectFault?) async {
        guard let receives = definition.receives, let target else {
            record("delivery", "", .skipped, definition.receives == nil ? "takes no deliveries" : "deliveries to a live system need --deliver")
            return
        }
        let (body, contentType) =
            receives.answer == .xml
            ? ("<check>liandong adapter check 联动</check>", "application/xml; charset=utf-8")
            : (#"{"check": "liandong adapter check 联动"}"#, "application/json; charset=utf-8")
        let key = "adapter-check-\(UUID().uuidString)"
        let message = OutboundMessage(idempotencyKey: key, kind: .incident, body: Array(body.utf8), contentType: contentType)
        do {
            let first = try await target.push(message)
            let again = try await target.push(message)
            expect(
                "idempotent", "", first == again, pass: "the same key twice answered the same receipt (\(first.reference))",
                fail: "the same key answered \(first.reference), then \(again.reference)")
        } catch {
            record("idempotent", "", .fail, "\(error)")
        }
        var broken = message
        broken.idempotencyKey = "adapter-check-\(UUID().uuidString)"
        broken.body = Array(body.dropLast().utf8)
        do {
            let receipt = try await target.push(broken)
            record("refusal", "", .fail, "a malformed document was accepted (\(receipt.reference))")
        } catch let error as AdapterError {
            expect("refusal", "", !error.isTransient, pass: "a malformed document is refused (\(error.code))", fail: "a refusal looks transient (\(error.code))")
        } catch {
            record("refusal", "", .fail, "\(error)")
        }
        guard let inject, await inject(.serverError, 1, true, "") else {
            record("transient", "", .skipped, "the system takes no fault injection (POST /_faults?endpoint=inbox)")
            return
        }
        do {
            broken.body = Array(body.utf8)
            _ = try await target.push(broken)
            record("transient", "", .fail, "an injected 503 was not reported")
        } catch let error as AdapterError {
            expect("transient", "", error.isTransient, pass: "a 503 is a transient failure, retried later", fail: "a 503 looks like a refusal")
        } catch {
            record("transient", "", .fail, "\(error)")
        }
    }

    /// Injects faults into the system at `baseURL` through its `POST /_faults`; a count of 0 only asks
    /// whether it takes them.
    static func injector(baseURL: String) -> InjectFault {
        { fault, count, inbox, _ in
            var request = HTTPClientRequest(url: "\(baseURL)/_faults?kind=\(fault.rawValue)&count=\(count)" + (inbox ? "&endpoint=inbox" : ""))
            request.method = .POST
            guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(5)) else { return false }
            return (200..<300).contains(response.status.code)
        }
    }

    /// Spoils rows of the tables `connection` reaches (`DatabaseSamples.spoil`): the one fault a
    /// database folder's samples can be made to give is a malformed record.
    static func rowSpoiler(_ definition: AdapterDefinition, connection: PostgresConnection.Configuration, logger: Logger) -> InjectFault {
        { fault, count, inbox, name in
            guard fault == .malformedRecord, !inbox, let stream = definition.streams.first(where: { $0.name == name }) else { return false }
            guard count > 0 else { return true }
            return (try? await DatabaseSamples.spoil(definition, stream: stream, in: connection, logger: logger)) != nil
        }
    }

    /// `checks` as a table, columns aligned.
    static func table(_ checks: [Check]) -> String {
        let rows = [["CHECK", "STREAM", "RESULT", "DETAIL"]] + checks.map { [$0.check, $0.stream, $0.result.rawValue, $0.detail] }
        let widths = (0..<3).map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[3]
        }.joined(separator: "\n")
    }
}
