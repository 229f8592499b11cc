import Foundation
import LiandongAdapterKit
import LiandongHub
import LiandongMapping
import LiandongModel
import Logging
import Metrics

/// Pulls each stream of a source after its cursor, maps, and ingests page by page: one page is one
/// hub transaction, cursor included, so a crash at any instant loses and doubles nothing. The catalog
/// gives the mappings; what is decided, delivered and transferred follows `hub.policies`.
public struct SyncEngine: Sendable {
    public let hub: Hub
    public let catalog: MappingCatalog
    public let logger: Logger
    /// Pages pulled per stream in one run before yielding to the next stream.
    public var maxPages: Int
    /// Where the time of each stage goes, when measured (`liandong bench`).
    public let clock: StageClock?

    public init(hub: Hub, catalog: MappingCatalog, logger: Logger, maxPages: Int = 10_000, clock: StageClock? = nil) {
        self.hub = hub.timed(by: clock)
        self.clock = clock
        self.catalog = catalog
        self.logger = logger
        self.maxPages = maxPages
    }

    /// Syncs every stream of `adapter` once; returns one record per stream (also stored in `sync_run`).
    /// A stream that fails is recorded with its error and does not stop the others.
    public func sync(_ adapter: some SourceAdapter) async throws -> [StreamStore.SyncRunRecord] {
        var runs: [StreamStore.SyncRunRecord] = []
        for stream in adapter.streams {
            runs.append(try await sync(stream, of: adapter))
        }
        return runs
    }

    /// Syncs one stream page by page. `mayContinue` is asked before each page is pulled and again
    /// before it is stored: false stops the run cleanly between transactions (a graceful shutdown, or
    /// a lease this instance no longer holds, say after a long pull); a page pulled but not stored is
    /// fetched again by whoever runs the stream next.
    public func sync(
        _ stream: SourceStream, of adapter: some SourceAdapter, mayContinue: @Sendable () async throws -> Bool = { true }
    ) async throws -> StreamStore.SyncRunRecord {
        let started = Date()
        var run = StreamStore.SyncRunRecord(
            source: adapter.system.rawValue, stream: stream.name, startedAt: started, finishedAt: started, pulled: 0, batches: 0,
            summary: IngestSummary(), error: nil)
        do {
            let mapper = PayloadMapper(mapping: try catalog.mapping(named: stream.mapping), clock: clock)
            var cursor = try await hub.streams.cursor(source: adapter.system, stream: stream.name)
            let source = [("source", adapter.system.rawValue)]
            // The next page is pulled and mapped, in a child task, while PostgreSQL stores this one; at
            // most one is in flight, and one no longer wanted is cancelled when the run ends.
            try await withThrowingTaskGroup(of: PreparedPage.self) { pages in
                defer { pages.cancelAll() }
                var prefetching = false
                func prefetch(after cursor: String?) {
                    pages.addTask { try await prepare(stream, of: adapter, after: cursor, mapper: mapper) }
                    prefetching = true
                }
                for pageNumber in 0..<maxPages {
                    try Task.checkCancellation()
                    guard try await mayContinue() else { break }
                    let started = ContinuousClock.now
                    if !prefetching { prefetch(after: cursor) }
                    guard let prepared = try await pages.next() else { break }
                    prefetching = false
                    guard try await mayContinue() else { break }
                    let page = prepared.page
                    let hasNext = page.hasMore && pageNumber + 1 < maxPages
                    guard let payloads = prepared.payloads else {
                        // Every byte of the page is stored already (a re-poll): only the cursor moves.
                        guard let next = page.cursor else { break }
                        if hasNext { prefetch(after: next) }
                        try await hub.streams.saveCursor(source: adapter.system, stream: stream.name, cursor: next)
                        run.summary.duplicatePayloads += page.payloads.count
                        run.batches += 1
                        cursor = next
                        if !page.hasMore { break }
                        continue
                    }
                    // A document that failed whole cannot say which records it held: keep the cursor where
                    // it was so they are fetched again, and stop this stream for this run.
                    let broken = payloads.contains(where: PayloadMapper.documentFailed)
                    let next = broken ? cursor : page.cursor
                    if hasNext, !broken, let next { prefetch(after: next) }
                    let writing = ContinuousClock.now
                    let summary = try await hub.ingest(
                        IngestBatch(source: adapter.system, stream: stream.name, payloads: payloads, cursor: next))
                    clock?.add(.write, since: writing)
                    run.summary.add(summary)
                    let pulled = payloads.reduce(0) { $0 + $1.records.count + $1.failures.filter { $0.scope != .document }.count }
                    run.pulled += pulled
                    let newest = payloads.lazy.flatMap(\.records).map(\.sourceTime).max()
                    run.newestSourceTime = [run.newestSourceTime, newest].compactMap { $0 }.max()
                    run.batches += 1
                    Counter(label: "liandong_records_pulled_total", dimensions: source).increment(by: pulled)
                    Counter(label: "liandong_records_ingested_total", dimensions: source).increment(by: summary.inserted + summary.updated)
                    Counter(label: "liandong_records_quarantined_total", dimensions: source).increment(by: summary.failures)
                    Metrics.Timer(label: "liandong_batch_duration_seconds", dimensions: source, preferredDisplayUnit: .seconds)
                        .record(duration: ContinuousClock.now - started)
                    logger.info(
                        "Ingested page",
                        metadata: [
                            "liandong.source": "\(adapter.system)", "liandong.stream": "\(stream.name)",
                            "liandong.inserted": "\(summary.inserted)", "liandong.updated": "\(summary.updated)",
                            "liandong.failures": "\(summary.failures)",
                        ])
                    if broken {
                        run.error = "a page did not parse and was quarantined; the cursor was held so its records are fetched again"
                        break
                    }
                    cursor = next
                    if !page.hasMore || next == nil { break }
                }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            run.error = "\(error)"
            logger.error(
                "Stream sync failed",
                metadata: ["liandong.source": "\(adapter.system)", "liandong.stream": "\(stream.name)", "liandong.error": "\(error)"])
        }
        run.finishedAt = Date()
        try await hub.streams.record(run)
        return run
    }

    /// A page pulled, with its payloads mapped; `payloads` is nil when every byte of it is stored
    /// already, so that mapping it would change nothing.
    struct PreparedPage: Sendable {
        var page: SourcePage
        var payloads: [ReceivedPayload]?
    }

    /// Pulls and maps the page after `cursor`.
    func prepare(
        _ stream: SourceStream, of adapter: some SourceAdapter, after cursor: String?, mapper: PayloadMapper
    ) async throws -> PreparedPage {
        let started = ContinuousClock.now
        let page = try await adapter.pull(stream, after: cursor)
        clock?.add(.read, since: started)
        if page.payloads.isEmpty || page.cursor == nil { return PreparedPage(page: page, payloads: page.payloads.map(mapper.map)) }
        if try await hub.holdsPayloads(page.payloads.map(\.body)) { return PreparedPage(page: page, payloads: nil) }
        return PreparedPage(page: page, payloads: page.payloads.map(mapper.map))
    }

    /// Ingests files as an exchange folder would deliver them, through the mapping of the first stream
    /// of `source` (its folder's definition: nothing is reached).
    public func ingestFiles(_ urls: [URL], from source: AdapterDefinition) async throws -> IngestSummary {
        guard let stream = source.streams.first else { return IngestSummary() }
        let mapper = PayloadMapper(mapping: try catalog.mapping(named: stream.mapping))
        var total = IngestSummary()
        for url in urls {
            let bytes = try Array(Data(contentsOf: url))
            let payload = mapper.map(FetchedPayload(name: url.lastPathComponent, contentType: nil, body: bytes))
            total.add(try await hub.ingest(IngestBatch(source: source.system, stream: "files", payloads: [payload], cursor: nil)))
        }
        return total
    }

    /// Re-runs quarantined payloads through the current mapping. With `dryRun`, reports only.
    public func replay(_ ids: [Int64], dryRun: Bool, by actor: ActingUser) async throws -> [QuarantineStore.ReplayOutcome] {
        var outcomes: [QuarantineStore.ReplayOutcome] = []
        for id in ids { outcomes.append(try await replay(id, dryRun: dryRun, by: actor)) }
        return outcomes
    }

    /// Re-runs one quarantined payload through its mapping's current version (`job`: the bulk job
    /// it is part of, kept on the failure).
    public func replay(_ id: Int64, dryRun: Bool, by actor: ActingUser, job: Int64? = nil) async throws -> QuarantineStore.ReplayOutcome {
        let failure = try await hub.quarantine.failure(id)
        let mapping = try catalog.mapping(named: failure.mapping.name)
        let result = mapping.map(failure.body, declaredEncoding: failure.declaredEncoding)
        // A record failure replays that record only; a document failure replays the whole document.
        var records: [CanonicalRecord] = []
        var still = result.documentFailure.map { [$0] } ?? []
        for (index, outcome) in result.records.enumerated() where failure.recordIndex < 0 || index == failure.recordIndex {
            switch outcome {
            case .mapped(let record): records.append(record)
            case .failed(_, _, let failures): still += failures
            }
        }
        return try await hub.quarantine.replay(
            id, records: records, stillFailing: still, mapping: mapping.ref, dryRun: dryRun, by: actor, job: job)
    }
}

extension SyncEngine {
    /// What a rebuild did.
    public struct RebuildSummary: Sendable, Codable {
        public var payloads = 0
        public var records = 0
        public var skippedPayloads = 0
        public var ingest = IngestSummary()
    }

    /// Recomputes every entity and incident from the stored raw payloads with the current mappings and
    /// policies; the admins' decisions (together/apart pairs, conflict choices) are kept and honoured.
    /// Neither entity fields (the newest source time wins) nor incidents (connected components) depend
    /// on the order records arrive in, so payloads are replayed in storage order, one batch each,
    /// streaming with flat memory. Raw payloads, mapping failures and the audit trail stay; the rebuild
    /// is audited. If it is interrupted, run it again: everything it clears is derived from what it keeps.
    public func rebuild() async throws -> RebuildSummary {
        var summary = RebuildSummary()
        try await hub.clearDerivedState(reason: "rebuild from raw payloads")
        var last: Int64 = 0
        while true {
            let payloads = try await hub.storedPayloads(after: last, limit: 100)
            guard let final = payloads.last else { break }
            last = final.id
            for payload in payloads {
                summary.payloads += 1
                let name = payload.mapping ?? catalog.mappings.values.first { $0.spec.source == payload.source }?.name
                guard let name, let mapping = catalog.mappings[name] else {
                    summary.skippedPayloads += 1
                    logger.warning("No mapping for a stored payload", metadata: ["liandong.payload": "\(payload.id)"])
                    continue
                }
                var records: [(record: CanonicalRecord, rawPayloadID: Int64)] = []
                for case .mapped(let record) in mapping.map(payload.body, declaredEncoding: payload.declaredEncoding).records {
                    records.append((record, payload.id))
                }
                summary.records += records.count
                if !records.isEmpty { summary.ingest.add(try await hub.reingest(records)) }
            }
        }
        return summary
    }
}
