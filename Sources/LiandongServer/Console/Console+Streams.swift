import Foundation
import Hummingbird
import LiandongHub
import LiandongModel

extension Console {
    func streams(_ context: ConsoleContext) async throws -> [StreamStore.StreamStatus] {
        let scope = try requireAny(.read, context, "read streams")
        return try await hub.streams.statuses().filter { scope?.contains($0.source) ?? true }.map { status in
            var status = status
            status.lastError = context.masker.text(status.lastError, of: status.source)
            return status
        }
    }

    func setPaused(_ paused: Bool, _ context: ConsoleContext, _ form: Form) async throws {
        let source = try context.parameters.require("source")
        let stream = try context.parameters.require("stream")
        try require(.operate, for: source, context, "\(paused ? "pause" : "resume") \(source)/\(stream)")
        let actor = try actor(context, reason: form["reason"])
        try await hubCall { try await hub.streams.setPaused(source: source, stream: stream, paused, by: actor) }
    }

    /// The loops deliveries close, as their overdue views: transfers, instruction receipts, call-outs.
    struct Loops: Codable {
        var transfers: [TransferView]
        var instructions: [InstructionReceiptView]
        var callouts: [CalloutView]
    }

    func loops(_ request: Request, _ context: ConsoleContext) async throws -> Loops {
        try require(.read, context, "read transfers, instructions and call-outs")
        let all = request.queryValues["all"] == "1"
        let masker = context.masker
        var loops = Loops(
            transfers: try await hub.outbox.transfers(overdueOnly: !all, limit: 200),
            instructions: try await hub.outbox.instructionReceipts(overdueOnly: !all, limit: 200),
            callouts: try await hub.outbox.callouts(unacknowledgedOnly: !all, limit: 200))
        loops.transfers = loops.transfers.map(masker.transfer)
        loops.instructions = loops.instructions.map(masker.instruction)
        for index in loops.callouts.indices where !masker.shows(loops.callouts[index].target) {
            loops.callouts[index].person = PersonalData.mask(loops.callouts[index].person, as: .name)
        }
        return loops
    }

    func addStreamRoutes(to router: Router<ConsoleContext>) {
        router.get("api/v1/streams") { _, context in json(try await streams(context)) }
        router.post("api/v1/streams/:source/:stream/pause") { request, context in
            try await setPaused(true, context, try await self.form(request, context))
            return json(try await streams(context))
        }
        router.post("api/v1/streams/:source/:stream/resume") { request, context in
            try await setPaused(false, context, try await self.form(request, context))
            return json(try await streams(context))
        }
        router.get("api/v1/loops") { request, context in json(try await loops(request, context)) }
        router.get("streams") { _, context -> Response in
            let streams = try await streams(context).map { s -> [String: Any] in
                var row: [String: Any] = [
                    "source": s.source, "stream": s.stream, "paused": s.paused, "failures": s.consecutiveFailures,
                    "mayOperate": context.principal.may(.operate, for: s.source),
                ]
                row["lastRun"] = s.lastRun
                row["lastSuccess"] = s.lastSuccess
                row["nextRun"] = s.nextRun
                row["lag"] = s.lagSeconds.map(Self.duration)
                row["holder"] = s.holder ?? s.lastHolder
                row["error"] = s.lastError
                return row
            }
            return page("streams", title: "数据流", section: "/streams", context, ["streams": streams])
        }
        router.post("streams/:source/:stream/pause") { request, context -> Response in
            try await setPaused(true, context, try await self.form(request, context))
            return redirect("/streams")
        }
        router.post("streams/:source/:stream/resume") { request, context -> Response in
            try await setPaused(false, context, try await self.form(request, context))
            return redirect("/streams")
        }
        router.get("loops") { request, context -> Response in
            let loops = try await loops(request, context)
            return page("loops", title: "转办·指令·叫应", section: "/loops", context, ["loops": loops, "all": request.queryValues["all"] == "1"])
        }
    }
}
