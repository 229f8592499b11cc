import Foundation
import Hummingbird
import LiandongHub
import LiandongModel
import LiandongSync

extension Console {
    /// Deliveries are scoped by their receiver: a grant for `police-110` covers what goes to 110.
    struct DeliveryList: Codable {
        var items: [Delivery]
        var next: Int64?
    }

    func deliveryQuery(_ query: [String: String]) -> (statuses: [DeliveryStatus]?, target: String?, kind: String?) {
        func value(_ key: String) -> String? { query[key].flatMap { $0.isEmpty ? nil : $0 } }
        return (value("status").map { $0.split(separator: ",").compactMap { DeliveryStatus(rawValue: String($0)) } }, value("target"), value("kind"))
    }

    func deliveries(_ request: Request, _ context: ConsoleContext) async throws -> DeliveryList {
        let scope = try requireAny(.read, context, "read deliveries")
        let query = request.queryValues
        let (statuses, target, kind) = deliveryQuery(query)
        if let target { try require(.read, for: target, context, "read deliveries to \(target)") }
        let size = configuration.pageSize
        var items: [Delivery] = []
        let before = query["before"].flatMap { Int64($0) }
        // A scoped user's list is the union of their receivers' lists, newest first.
        for receiver in target.map({ [$0] }) ?? scope.map({ $0.sorted() }) ?? [nil] as [String?] {
            items += try await hub.outbox.deliveries(statuses: statuses, target: receiver, kind: kind, before: before, limit: size + 1)
        }
        items.sort { $0.id > $1.id }
        let next = items.count > size ? items[size - 1].id : nil
        items = Array(items.prefix(size))
        let masker = context.masker
        for index in items.indices {
            items[index].payload = masker.fields(.object(items[index].payload), of: nil).objectValue ?? [:]
            items[index].lastError = masker.text(items[index].lastError, of: nil)
        }
        return DeliveryList(items: items, next: next)
    }

    func delivery(_ id: Int64, _ context: ConsoleContext) async throws -> DeliveryDetail {
        var detail = try await hubCall { try await hub.outbox.delivery(id) }.decoded()
        let target = detail.delivery.target
        try require(.read, for: target, context, "read deliveries to \(target)")
        let masker = context.masker
        let personal = PersonalData.values(in: .object(detail.delivery.payload))
        // A delivery carries data of other agencies than its receiver: its personal data is shown only
        // to users who may see every agency's.
        detail.delivery.payload = masker.fields(.object(detail.delivery.payload), of: nil).objectValue ?? [:]
        detail.sentBody = detail.sentBody.map { masker.document($0, of: nil, values: personal) }
        detail.sentBytes = nil
        for index in detail.attempts.indices {
            detail.attempts[index].answer = detail.attempts[index].answer.map { masker.document($0, of: nil, values: personal) }
            detail.attempts[index].answerBytes = nil
            detail.attempts[index].error = masker.text(detail.attempts[index].error, of: nil)
        }
        detail.delivery.lastError = masker.text(detail.delivery.lastError, of: nil)
        return detail
    }

    /// Retries one dead or expired delivery, or every one a filter covers (capped, as a job).
    func retry(_ id: Int64?, _ form: Form, _ context: ConsoleContext) async throws -> ConsoleJob? {
        if let id {
            let detail = try await hubCall { try await hub.outbox.delivery(id) }
            try require(.operate, for: detail.delivery.target, context, "retry deliveries to \(detail.delivery.target)")
            let actor = try actor(context, reason: form["reason"])
            let changed = try await hubCall { try await hub.outbox.retry([id], statuses: [.dead, .expired], by: actor) }
            guard !changed.isEmpty else { throw ConsoleError(.conflict, "delivery \(id) is \(detail.delivery.status.rawValue), not dead or expired") }
            return nil
        }
        let target = form["target"]
        let scope = try requireAny(.operate, context, "retry deliveries")
        if let target { try require(.operate, for: target, context, "retry deliveries to \(target)") }
        let actor = try actor(context, reason: form["reason"])
        let statuses = (form["status"] ?? "dead").split(separator: ",").compactMap { DeliveryStatus(rawValue: String($0)) }
            .filter { $0 == .dead || $0 == .expired }
        guard !statuses.isEmpty else { throw ConsoleError.badRequest("only dead or expired deliveries are retried") }
        var ids: [Int64] = []
        for receiver in target.map({ [$0] }) ?? scope.map({ $0.sorted() }) ?? [nil] as [String?] {
            ids += try await hub.outbox.deliveries(statuses: statuses, target: receiver, kind: form["kind"], limit: configuration.bulkCap + 1).map(\.id)
        }
        guard ids.count <= configuration.bulkCap else {
            throw ConsoleError(.unprocessableContent, "筛选条件命中超过 \(configuration.bulkCap) 条，请缩小范围（narrow the filter）")
        }
        guard !ids.isEmpty else { throw ConsoleError.badRequest("筛选条件没有命中任何记录（the filter covers nothing）") }
        let filter = Self.queryString(["target": target, "status": statuses.map(\.rawValue).joined(separator: ","), "kind": form["kind"]])
        let job = try await hub.console.startJob(action: "deliveries.retry", filter: filter, total: ids.count, by: actor)
        jobs.submit(.init(id: job, action: .retry(ids.sorted()), actor: actor))
        return try await hub.console.jobs(id: job).first
    }

    /// Approves or refuses one delivery awaiting approval, with the operator's reason.
    func answer(_ id: Int64, _ decision: ApprovalDecision, _ form: Form, _ context: ConsoleContext) async throws {
        let detail = try await hubCall { try await hub.outbox.delivery(id) }
        let target = detail.delivery.target
        try require(.operate, for: target, context, "\(decision.rawValue) deliveries to \(target)")
        let actor = try actor(context, reason: form["reason"])
        let changed = try await hubCall { try await hub.outbox.decide([id], decision, by: actor) }
        guard !changed.isEmpty else { throw ConsoleError(.conflict, "delivery \(id) is \(detail.delivery.status.rawValue), not awaiting approval") }
    }

    func addDeliveryRoutes(to router: Router<ConsoleContext>) {
        router.get("api/v1/deliveries") { request, context in json(try await deliveries(request, context)) }
        router.get("api/v1/deliveries/:id") { _, context in json(try await delivery(try context.parameters.require("id", as: Int64.self), context)) }
        router.post("api/v1/deliveries/:id/retry") { request, context in
            let form = try await self.form(request, context)
            let id = try context.parameters.require("id", as: Int64.self)
            _ = try await retry(id, form, context)
            return json(try await delivery(id, context))
        }
        for decision in [ApprovalDecision.approve, .refuse] {
            router.post("api/v1/deliveries/:id/\(decision.rawValue)") { request, context in
                let form = try await self.form(request, context)
                let id = try context.parameters.require("id", as: Int64.self)
                try await answer(id, decision, form, context)
                return json(try await delivery(id, context))
            }
            router.post("deliveries/:id/\(decision.rawValue)") { request, context -> Response in
                let form = try await self.form(request, context)
                let id = try context.parameters.require("id", as: Int64.self)
                try await answer(id, decision, form, context)
                return redirect("/deliveries/\(id)")
            }
        }
        router.post("api/v1/deliveries/retry") { request, context in
            let form = try await self.form(request, context)
            return json(try await retry(nil, form, context))
        }
        router.get("deliveries") { request, context -> Response in
            let list = try await deliveries(request, context)
            let query = request.queryValues
            return page(
                "deliveries", title: "推送", section: "/deliveries", context,
                [
                    "items": list.items, "query": query, "next": Self.nextPage("/deliveries", query, before: list.next),
                    "targets": hub.policies.sharing.agreements.keys.map(\.rawValue).sorted(),
                ])
        }
        router.get("deliveries/:id") { _, context -> Response in
            let detail = try await delivery(try context.parameters.require("id", as: Int64.self), context)
            let retryable = [.dead, .expired].contains(detail.delivery.status)
            return page(
                "delivery", title: "推送 \(detail.delivery.id)", section: "/deliveries", context,
                [
                    "d": detail, "payloadJSON": Self.prettyJSON(FieldValue.object(detail.delivery.payload)),
                    "retryable": retryable && context.principal.may(.operate, for: detail.delivery.target),
                    "awaiting": detail.delivery.status == .awaitingApproval && context.principal.may(.operate, for: detail.delivery.target),
                ])
        }
        router.post("deliveries/:id/retry") { request, context -> Response in
            let form = try await self.form(request, context)
            let id = try context.parameters.require("id", as: Int64.self)
            _ = try await retry(id, form, context)
            return redirect("/deliveries/\(id)")
        }
        router.post("deliveries/retry") { request, context -> Response in
            let form = try await self.form(request, context)
            guard let job = try await retry(nil, form, context) else { return redirect("/deliveries") }
            return redirect("/jobs/\(job.id)")
        }
    }
}
