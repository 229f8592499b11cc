import Foundation
import Hummingbird
import LiandongHub
import LiandongMapping
import LiandongModel

extension Console {
    /// The failure filter a request's query names (`source`, `mapping`, `rule`, `path`, `status`
    /// (`open` by default, `all`), `since`, `until`, `q`), within the agencies the user may read.
    func failureFilter(_ query: [String: String], scope: Set<String>?) -> QuarantineStore.FailureFilter {
        func value(_ key: String) -> String? { query[key].flatMap { $0.isEmpty ? nil : $0 } }
        let status = value("status") ?? "open"
        return QuarantineStore.FailureFilter(
            scope: scope, source: value("source"), mapping: value("mapping"), rule: value("rule"), path: value("path"),
            status: status == "all" ? nil : status, since: ConsoleTime.parse(value("since")), until: ConsoleTime.parse(value("until")),
            text: value("q"))
    }

    /// Refuses a text search that could confirm masked personal data to a user without
    /// `personal_data` for every agency: a text that is only digits (and spaces, dashes, `+`, a final
    /// X), seven or more of them, like a phone or ID number, or one with a mask's stars. A work order's
    /// number (`GD2026…`) is searched.
    func requireSearchable(_ text: String?, _ context: ConsoleContext) throws {
        guard let text, !context.masker.shows(nil) else { return }
        let core = text.filter { !" -+".contains($0) }
        let digitsOnly = core.dropLast(core.last == "X" || core.last == "x" ? 1 : 0).allSatisfy(\.isNumber)
        guard !(digitsOnly && core.count >= 7), !text.contains("*") else {
            logger.warning("Denied: a search for personal data", metadata: ["liandong.user": "\(context.principal.user)"])
            throw ConsoleError.forbidden("按电话或证件号码搜索需要个人信息权限（searching for phone or ID numbers needs personal_data）")
        }
    }

    /// A list of failures and their groups, a page of them.
    struct FailureList: Codable {
        var groups: [QuarantineStore.FailureGroup]
        var items: [QuarantineStore.FailureSummary]
        /// The `before` of the next page, if there is one.
        var next: Int64?
    }

    func failures(_ request: Request, _ context: ConsoleContext) async throws -> FailureList {
        let scope = try requireAny(.read, context, "read mapping failures")
        let query = request.queryValues
        let filter = failureFilter(query, scope: scope)
        try requireSearchable(filter.text, context)
        let size = configuration.pageSize
        var items = try await hub.quarantine.search(filter, before: query["before"].flatMap { Int64($0) }, limit: size + 1)
        let next = items.count > size ? items[size - 1].id : nil
        items = Array(items.prefix(size))
        let masker = context.masker
        for index in items.indices {
            let keys = catalog.mappings[items[index].mapping].map(Self.personalKeys) ?? [:]
            items[index].failures = items[index].failures.map { masked($0, keys: keys, masker: masker, of: items[index].source) }
        }
        return FailureList(groups: try await hub.quarantine.groups(filter), items: items, next: next)
    }

    /// A failure with its value masked: by the kind of personal field its path is (a canonical name, or
    /// one of `keys`, the source keys the mapping reads personal fields from; a phone number too
    /// malformed to mask by shape is such a value), else by shape; the message by shape.
    func masked(_ failure: MappingFailure, keys: [String: PersonalData.Kind], masker: Masker, of agency: String) -> MappingFailure {
        guard !masker.shows(agency) else { return failure }
        var failure = failure
        let key = failure.path.split(whereSeparator: { "./@[]$".contains($0) }).last.map(String.init) ?? failure.path
        let kind = keys[key] ?? PersonalData.kind(ofField: failure.path)
        failure.value = failure.value.map { value in kind.map { PersonalData.mask(value, as: $0) } ?? PersonalData.maskedText(value) }
        failure.message = PersonalData.maskedText(failure.message)
        return failure
    }

    /// One failure as the console shows it: the raw payload decoded (masked for users without
    /// `personal_data`), the mapping's version now, and what was decided.
    struct FailureDetail: Codable {
        var id: Int64
        var status: String
        var source: String
        var stream: String
        var mapping: String
        var mappingVersion: Int
        /// The version of the mapping a replay would use.
        var currentMappingVersion: Int?
        var recordIndex: Int
        var externalID: String?
        var failures: [MappingFailure]
        var firstSeen: Date
        var lastSeen: Date
        var seenCount: Int
        var decidedBy: String?
        var decidedAt: Date?
        var decisionReason: String?
        var jobID: Int64?
        var payloadName: String
        var contentType: String?
        var encoding: String?
        var payload: String
        var payloadTruncated: Bool
    }

    func failure(_ id: Int64, _ context: ConsoleContext) async throws -> FailureDetail {
        let f = try await hubCall { try await hub.quarantine.failure(id) }
        try require(.read, for: f.source, context, "read failures of \(f.source)")
        let mapping = catalog.mappings[f.mapping.name]
        let text =
            (try? TextDecoding.decode(f.body, declared: f.detectedEncoding ?? f.declaredEncoding, fallback: .utf8).text)
            ?? "(\(f.body.count) bytes that do not decode; first bytes: \(f.body.prefix(32).hexString))"
        let limit = 200_000
        let masker = context.masker
        let keys = mapping.map(Self.personalKeys) ?? [:]
        return FailureDetail(
            id: f.id, status: f.status, source: f.source, stream: f.stream, mapping: f.mapping.name, mappingVersion: f.mapping.version,
            currentMappingVersion: mapping?.spec.version, recordIndex: f.recordIndex, externalID: f.externalID,
            failures: f.failures.map { masked($0, keys: keys, masker: masker, of: f.source) }, firstSeen: f.firstSeen, lastSeen: f.lastSeen,
            seenCount: f.seenCount, decidedBy: f.decidedBy, decidedAt: f.decidedAt, decisionReason: f.decisionReason, jobID: f.jobID,
            payloadName: f.payloadName, contentType: f.contentType, encoding: f.detectedEncoding ?? f.declaredEncoding,
            payload: masker.document(String(text.prefix(limit)), of: f.source, keys: keys),
            payloadTruncated: text.count > limit)
    }

    /// The source keys (last part of each path) a mapping reads personal fields from.
    static func personalKeys(of mapping: Mapping) -> [String: PersonalData.Kind] {
        var keys: [String: PersonalData.Kind] = [:]
        func visit(_ fields: [String: MappingSpec.FieldSpec]) {
            for (name, spec) in fields {
                if let kind = PersonalData.kind(ofField: name), let path = spec.path,
                    let key = path.split(whereSeparator: { "./@[]$".contains($0) }).last
                {
                    keys[String(key)] = kind
                }
                if let nested = spec.fields { visit(nested) }
            }
        }
        visit(mapping.spec.fields)
        return keys
    }

    /// Replays one failure: a dry run (what would change) unless `apply`; applying needs a reason.
    func replay(_ id: Int64, apply: Bool, reason: String?, _ context: ConsoleContext) async throws -> QuarantineStore.ReplayOutcome {
        let f = try await hubCall { try await hub.quarantine.failure(id) }
        try require(.operate, for: f.source, context, "replay failures of \(f.source)")
        let actor = apply ? try actor(context, reason: reason) : ActingUser(context.principal.user, reason: "dry run")
        var outcome = try await hubCall { try await engine.replay(id, dryRun: !apply, by: actor) }
        let masker = context.masker
        let keys = catalog.mappings[f.mapping.name].map(Self.personalKeys) ?? [:]
        outcome.changes = outcome.changes.map { masker.text($0, of: f.source) ?? "" }
        outcome.failures = outcome.failures.map { masked($0, keys: keys, masker: masker, of: f.source) }
        return outcome
    }

    func ignore(_ id: Int64, reason: String?, _ context: ConsoleContext) async throws {
        let f = try await hubCall { try await hub.quarantine.failure(id) }
        try require(.operate, for: f.source, context, "ignore failures of \(f.source)")
        let actor = try actor(context, reason: reason)
        try await hubCall { try await hub.quarantine.ignore(id, by: actor) }
    }

    /// What a bulk action over a filter would take on, or the job that does it.
    struct BulkAnswer: Codable {
        var action: String
        var count: Int
        /// The filter covers more than the cap: narrow it.
        var overCap: Bool
        var cap: Int
        /// The dry runs of the first few, for a replay preview.
        var preview: [QuarantineStore.ReplayOutcome]
        var job: ConsoleJob?
    }

    /// Replays or ignores every failure a filter covers (within the user's agencies for `operate`), capped;
    /// without `apply`, says how many and previews the first few replays.
    func bulk(_ form: Form, _ context: ConsoleContext) async throws -> BulkAnswer {
        let scope = try requireAny(.operate, context, "replay or ignore in bulk")
        guard let action = form["action"], ["replay", "ignore"].contains(action) else {
            throw ConsoleError.badRequest("action must be replay or ignore")
        }
        let filter = failureFilter(form.values, scope: scope)
        let cap = configuration.bulkCap
        let ids = try await hub.quarantine.ids(filter, limit: cap + 1)
        var answer = BulkAnswer(action: action, count: min(ids.count, cap), overCap: ids.count > cap, cap: cap, preview: [], job: nil)
        guard form.flag("apply") else {
            if action == "replay" {
                for id in ids.prefix(5) { answer.preview.append(try await replay(id, apply: false, reason: nil, context)) }
            }
            return answer
        }
        guard !answer.overCap else {
            throw ConsoleError(.unprocessableContent, "筛选条件命中超过 \(cap) 条，请缩小范围（the filter covers more than \(cap); narrow it）")
        }
        guard !ids.isEmpty else { throw ConsoleError.badRequest("筛选条件没有命中任何记录（the filter covers nothing）") }
        let actor = try actor(context, reason: form["reason"])
        let filterText = ["source", "mapping", "rule", "path", "status", "since", "until", "q"].compactMap { key in
            form[key].map { "\(key)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" }
        }.joined(separator: "&")
        let job = try await hub.console.startJob(action: "errors.\(action)", filter: filterText, total: ids.count, by: actor)
        jobs.submit(.init(id: job, action: action == "replay" ? .replay(ids) : .ignore(ids), actor: actor))
        answer.job = try await hub.console.jobs(id: job).first
        return answer
    }

    /// Every failure a filter covers (up to the bulk cap) as CSV, masked as the lists are: one row per
    /// failure and rule, for a spreadsheet.
    func export(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let scope = try requireAny(.read, context, "export mapping failures")
        let filter = failureFilter(request.queryValues, scope: scope)
        try requireSearchable(filter.text, context)
        var rows = [["id", "status", "source", "stream", "mapping", "mapping_version", "external_id", "path", "rule", "value", "message",
                     "first_seen", "last_seen", "seen_count", "decided_by", "decision_reason"]]
        var before: Int64?
        var exported = 0
        let masker = context.masker
        while exported < configuration.bulkCap {
            let page = try await hub.quarantine.search(filter, before: before, limit: min(500, configuration.bulkCap - exported))
            for item in page {
                let keys = catalog.mappings[item.mapping].map(Self.personalKeys) ?? [:]
                for failure in item.failures.map({ masked($0, keys: keys, masker: masker, of: item.source) }) {
                    rows.append([
                        "\(item.id)", item.status, item.source, item.stream, item.mapping, "\(item.mappingVersion)", item.externalID ?? "",
                        failure.path, failure.rule.rawValue, failure.value ?? "", failure.message, ConsoleTime.text(item.firstSeen),
                        ConsoleTime.text(item.lastSeen), "\(item.seenCount)", item.decidedBy ?? "", item.decisionReason ?? "",
                    ])
                }
            }
            exported += page.count
            guard let last = page.last, page.count == 500 else { break }
            before = last.id
        }
        // UTF-8 with a byte order mark, so that spreadsheet programs read the Chinese right.
        let csv = "\u{FEFF}" + rows.map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"mapping-failures.csv\"", .cacheControl: "no-store",
            ],
            body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    /// A CSV field (RFC 4180), quoted when it holds a comma, quote or line break; a leading `=`, `+`,
    /// `-` or `@` is prefixed with `'` so that no spreadsheet runs it as a formula.
    static func csvField(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A job, to its requester and to users who may read every agency (its filter may name any).
    func job(_ id: Int64, _ context: ConsoleContext) async throws -> ConsoleJob {
        _ = try requireAny(.read, context, "read jobs")
        guard let job = try await hub.console.jobs(id: id).first else { throw ConsoleError(.notFound, "no job \(id)") }
        guard job.requestedBy == context.principal.user || context.principal.may(.read) else { throw ConsoleError.forbidden("read job \(id)") }
        return job
    }

    /// The newest jobs the user may see.
    func visibleJobs(_ context: ConsoleContext) async throws -> [ConsoleJob] {
        try await hub.console.jobs(limit: 20).filter { $0.requestedBy == context.principal.user || context.principal.may(.read) }.prefix(5)
            .map { $0 }
    }

    func addErrorRoutes(to router: Router<ConsoleContext>) {
        router.get("api/v1/errors") { request, context in json(try await failures(request, context)) }
        router.get("api/v1/errors/:id") { _, context in json(try await failure(try context.parameters.require("id", as: Int64.self), context)) }
        router.post("api/v1/errors/:id/replay") { request, context in
            let form = try await self.form(request, context)
            return json(try await replay(try context.parameters.require("id", as: Int64.self), apply: !form.flag("dry_run"), reason: form["reason"], context))
        }
        router.post("api/v1/errors/:id/ignore") { request, context in
            let form = try await self.form(request, context)
            let id = try context.parameters.require("id", as: Int64.self)
            try await ignore(id, reason: form["reason"], context)
            return json(try await failure(id, context))
        }
        router.post("api/v1/errors/bulk") { request, context in
            var form = try await self.form(request, context)
            form.values["apply"] = form.flag("dry_run") ? "false" : "true"
            return json(try await bulk(form, context))
        }
        router.get("api/v1/errors/export") { request, context in try await export(request, context) }
        router.get("api/v1/jobs/:id") { _, context in json(try await job(try context.parameters.require("id", as: Int64.self), context)) }

        router.get("errors") { request, context -> Response in
            let list = try await failures(request, context)
            let query = request.queryValues
            let jobs = try await visibleJobs(context)
            return page(
                "errors", title: "映射错误", section: "/errors", context,
                [
                    "groups": list.groups, "items": list.items, "query": query,
                    "statusOptions": [("open", "未处理"), ("replayed", "已重放"), ("ignored", "已忽略"), ("all", "全部")].map { value, title in
                        ["value": value, "title": title, "selected": (query["status"] ?? "open") == value] as [String: Any]
                    },
                    "next": Self.nextPage("/errors", query, before: list.next),
                    "filterHidden": query.filter { $0.key != "before" }.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
                    "sources": catalog.mappings.values.map(\.spec.source).uniqued(),
                    "jobs": jobs, "hasJobs": !jobs.isEmpty, "exportQuery": Self.queryString(query.filter { $0.key != "before" }),
                ])
        }
        router.get("errors/:id") { _, context -> Response in
            let detail = try await failure(try context.parameters.require("id", as: Int64.self), context)
            return page(
                "error", title: "映射错误 \(detail.id)", section: "/errors", context,
                ["f": detail, "open": detail.status == "open", "mayOperate": context.principal.may(.operate, for: detail.source)])
        }
        router.post("errors/:id/replay") { request, context -> Response in
            let form = try await self.form(request, context)
            let id = try context.parameters.require("id", as: Int64.self)
            let apply = form["mode"] == "apply"
            let outcome = try await replay(id, apply: apply, reason: form["reason"], context)
            if apply { return redirect("/errors/\(id)") }
            return page(
                "replay", title: "重放预览 \(id)", section: "/errors", context,
                ["id": id, "outcome": outcome, "stillFailing": !outcome.failures.isEmpty, "reason": form["reason"] ?? ""])
        }
        router.post("errors/:id/ignore") { request, context -> Response in
            let form = try await self.form(request, context)
            let id = try context.parameters.require("id", as: Int64.self)
            try await ignore(id, reason: form["reason"], context)
            return redirect("/errors/\(id)")
        }
        router.post("errors/bulk") { request, context -> Response in
            var form = try await self.form(request, context)
            form.values["apply"] = form["mode"] == "apply" ? "true" : "false"
            let answer = try await bulk(form, context)
            if let job = answer.job { return redirect("/jobs/\(job.id)") }
            return page(
                "bulk", title: "批量操作预览", section: "/errors", context,
                [
                    "answer": answer, "replay": answer.action == "replay", "hasPreview": !answer.preview.isEmpty,
                    "filterHidden": form.values.filter { !["csrf", "mode", "apply", "reason"].contains($0.key) }.sorted { $0.key < $1.key }
                        .map { ["name": $0.key, "value": $0.value] },
                ])
        }
        router.get("jobs/:id") { _, context -> Response in
            let job = try await job(try context.parameters.require("id", as: Int64.self), context)
            return page("job", title: "批量任务 \(job.id)", section: "/errors", context, ["job": job, "running": job.status == "running"])
        }
    }

    /// The link to the page after this one (`path` with `query` and `before`), or false on the last page:
    /// a template's section must not see an optional, which swift-mustache takes for a value.
    static func nextPage(_ path: String, _ query: [String: String], before: Int64?) -> Any {
        guard let before else { return false }
        var next: [String: String?] = query
        next["before"] = String(before)
        return path + "?" + queryString(next)
    }

    /// A URL query from `values`, sorted by key, without empty values.
    static func queryString(_ values: [String: String?]) -> String {
        values.compactMap { key, value in
            guard let value, !value.isEmpty else { return nil }
            return "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? value)"
        }.sorted().joined(separator: "&")
    }
}

extension CharacterSet {
    /// What may stand unescaped in a query value.
    static let urlQueryValueAllowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
}

extension Sequence where Element: Hashable & Comparable {
    /// Each element once, sorted.
    func uniqued() -> [Element] { Set(self).sorted() }
}

extension Request {
    /// The URL query's fields as a form gives them (`+` for a space, percent escapes decoded); the
    /// first of a repeated key.
    var queryValues: [String: String] {
        guard let query = uri.query, !query.isEmpty else { return [:] }
        var values: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if values[parts[0]] == nil { values[parts[0]] = parts.count > 1 ? parts[1] : "" }
        }
        return values
    }
}
