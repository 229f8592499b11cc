import Foundation
import Hummingbird
import LiandongHub
import LiandongModel

extension Console {
    /// The admins' actions, a page of them; bodies masked for users without `personal_data`.
    struct AuditList: Codable {
        var items: [AuditLog.AuditRecord]
        var next: Int64?
    }

    func decisions(_ request: Request, _ context: ConsoleContext) async throws -> AuditList {
        try require(.audit, context, "read the audit log")
        let size = configuration.pageSize
        var items = try await hub.audit.decisions(before: request.queryValues["before"].flatMap { Int64($0) }, limit: size + 1)
        let next = items.count > size ? items[size - 1].seq : nil
        items = Array(items.prefix(size)).map { masked($0, context) }
        return AuditList(items: items, next: next)
    }

    func masked(_ record: AuditLog.AuditRecord, _ context: ConsoleContext) -> AuditLog.AuditRecord {
        var record = record
        record.content = context.masker.fields(record.content, of: nil)
        return record
    }

    func trail(_ entity: String, _ context: ConsoleContext) async throws -> [AuditLog.AuditRecord] {
        try require(.audit, context, "read an entity's trail")
        let id = (try? await hub.inspection.resolve(entity).id.uuidString.lowercased()) ?? entity
        return try await hub.audit.trail(of: id).map { masked($0, context) }
    }

    func verify(_ context: ConsoleContext) async throws -> AuditLog.AuditVerification {
        try require(.audit, context, "verify the audit chain")
        logger.info("Audit chain verification asked", metadata: ["liandong.user": "\(context.principal.user)"])
        return try await hub.audit.verify()
    }

    func addAuditRoutes(to router: Router<ConsoleContext>) {
        router.get("api/v1/audit/actions") { request, context in json(try await decisions(request, context)) }
        router.get("api/v1/audit/trail") { request, context in
            guard let entity = request.queryValues["entity"], !entity.isEmpty else { throw ConsoleError.badRequest("entity is required") }
            return json(try await trail(entity, context))
        }
        router.post("api/v1/audit/verify") { request, context in
            _ = try await self.form(request, context)
            return json(try await verify(context))
        }
        router.get("audit") { request, context -> Response in
            let list = try await decisions(request, context)
            var data: [String: Any] = ["items": list.items, "next": Self.nextPage("/audit", [:], before: list.next)]
            if let entity = request.queryValues["entity"], !entity.isEmpty {
                data["entity"] = entity
                data["trail"] = try await trail(entity, context)
            }
            return page("audit", title: "审计", section: "/audit", context, data)
        }
        router.post("audit/verify") { request, context -> Response in
            _ = try await self.form(request, context)
            let result = try await verify(context)
            let list = try await decisions(request, context)
            return page(
                "audit", title: "审计", section: "/audit", context,
                ["items": list.items, "verification": result, "intact": result.firstBad == nil])
        }
    }
}
