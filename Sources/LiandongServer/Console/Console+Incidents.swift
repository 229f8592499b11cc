import Foundation
import Hummingbird
import LiandongHub
import LiandongModel

extension Console {
    /// Incidents join reports of several agencies: they are read with `read` for every agency, and
    /// their personal data is shown per field to users with `personal_data` for the field's source.
    struct IncidentList: Codable {
        var items: [IncidentStore.IncidentSummary]
        var next: Int64?
    }

    func incidentFilter(_ query: [String: String]) -> IncidentStore.IncidentFilter {
        func value(_ key: String) -> String? { query[key].flatMap { $0.isEmpty ? nil : $0 } }
        return IncidentStore.IncidentFilter(
            type: value("type"), status: value("status"), division: value("division"), since: ConsoleTime.parse(value("since")),
            until: ConsoleTime.parse(value("until")), text: value("q"))
    }

    func incidents(_ request: Request, _ context: ConsoleContext) async throws -> IncidentList {
        try require(.read, context, "read incidents")
        let query = request.queryValues
        let size = configuration.pageSize
        let sources = catalog.mappings.values.map(\.spec.source).uniqued()
        var items = try await hub.incidents.search(
            incidentFilter(query), sources: sources, before: query["before"].flatMap { Int64($0) }, limit: size + 1)
        let next = items.count > size ? items[size - 1].no : nil
        items = Array(items.prefix(size))
        let masker = context.masker
        for index in items.indices { items[index].address = masker.text(items[index].address, of: nil) }
        return IncidentList(items: items, next: next)
    }

    func incident(_ reference: String, _ context: ConsoleContext) async throws -> IncidentStore.IncidentFile {
        try require(.read, context, "read incidents")
        var file = try await hubCall { try await hub.incidents.file(reference) }
        let masker = context.masker
        for index in file.fields.indices {
            let field = file.fields[index]
            file.fields[index].value = masker.value(field.value, field: field.name, of: field.source)
            for a in field.alternates.indices {
                file.fields[index].alternates[a].value = masker.value(field.alternates[a].value, field: field.name, of: field.alternates[a].source)
            }
        }
        for index in file.conflicts.indices {
            file.conflicts[index].candidates = masker.value(file.conflicts[index].candidates, field: file.conflicts[index].field, of: nil)
            file.conflicts[index].resolution = file.conflicts[index].resolution.map { masker.value($0, field: file.conflicts[index].field, of: nil) }
        }
        for index in file.audit.indices where !masker.shows(nil) {
            let body = file.audit[index].body
            file.audit[index].body = ((try? FieldValue(jsonText: body)).map { PersonalData.masked($0).canonicalJSON }) ?? PersonalData.maskedText(body)
        }
        file.transfers = file.transfers.map(masker.transfer)
        file.instructions = file.instructions.map(masker.instruction)
        return file
    }

    /// An identity decision on an incident: split a report out, merge, accept or reject a candidate,
    /// resolve a conflict. Each needs `operate` for every agency (an incident spans them) and a reason.
    func decide(_ decision: String, _ form: Form, _ context: ConsoleContext) async throws -> String {
        try require(.operate, context, "decide identity (\(decision))")
        let actor = try actor(context, reason: form["reason"])
        func field(_ name: String) throws -> String {
            guard let value = form[name] else { throw ConsoleError.badRequest("\(name) is required") }
            return value
        }
        func number(_ name: String) throws -> Int64 {
            guard let value = Int64(try field(name)) else { throw ConsoleError.badRequest("\(name) must be a number") }
            return value
        }
        return try await hubCall {
            switch decision {
            case "split": return "\(try await hub.incidents.split(report: try field("report"), by: actor))"
            case "merge": return "\(try await hub.incidents.merge(try field("target"), try field("other"), by: actor))"
            case "accept", "reject":
                let candidate = try number("candidate")
                let incident = try field("incident")
                if decision == "accept" {
                    try await hub.incidents.acceptCandidate(candidate, by: actor)
                } else {
                    try await hub.incidents.rejectCandidate(candidate, by: actor)
                }
                return incident
            case "resolve":
                let id = try number("conflict")
                let (value, incident) = (try field("value"), try field("incident"))
                // A user who sees a personal field masked cannot decide it: the mask would become the value.
                let conflict = try await hub.incidents.conflict(id)
                if PersonalData.kind(ofField: conflict.field) != nil { try require(.personalData, context, "resolve a conflict of \(conflict.field)") }
                try await hub.incidents.resolveConflict(id, value: value, by: actor)
                return incident
            default: throw ConsoleError.badRequest("unknown decision \(decision)")
            }
        }
    }

    func addIncidentRoutes(to router: Router<ConsoleContext>) {
        router.get("api/v1/incidents") { request, context in json(try await incidents(request, context)) }
        router.get("api/v1/incidents/:ref") { _, context in json(try await incident(try context.parameters.require("ref"), context)) }
        router.post("api/v1/incidents/decisions/:decision") { request, context in
            let form = try await self.form(request, context)
            let incident = try await decide(try context.parameters.require("decision"), form, context)
            return json(try await self.incident(incident, context))
        }
        router.get("incidents") { request, context -> Response in
            let list = try await incidents(request, context)
            let query = request.queryValues
            return page(
                "incidents", title: "事件", section: "/incidents", context,
                ["items": list.items, "query": query, "next": Self.nextPage("/incidents", query, before: list.next)])
        }
        router.get("incidents/:ref") { _, context -> Response in
            let file = try await incident(try context.parameters.require("ref"), context)
            return page(
                "incident", title: "事件 #\(file.no)", section: "/incidents", context,
                [
                    "i": file, "mayDecide": context.principal.may(.operate),
                    "candidateRows": file.candidates.map { c in
                        [
                            "id": c.id, "report": c.report, "incidentNo": c.incidentNo, "score": c.score, "status": c.status,
                            "open": c.status == "open",
                        ] as [String: Any]
                    },
                ])
        }
        router.post("incidents/decisions/:decision") { request, context -> Response in
            let form = try await self.form(request, context)
            let incident = try await decide(try context.parameters.require("decision"), form, context)
            return redirect("/incidents/\(incident)")
        }
    }
}
