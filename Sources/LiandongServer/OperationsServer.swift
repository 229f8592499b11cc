import Hummingbird
import LiandongHub
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The hub's HTTP server: the endpoints operations watch — `/healthz` (the process answers), `/readyz`
/// (the database answers too: 503 while it does not), `/metrics` (Prometheus text) — and, when given,
/// the admin console and its API beside them.
public enum OperationsServer {
    /// The application to run as one service of `serve`'s group.
    public static func application(
        hub: Hub, registry: PrometheusCollectorRegistry, host: String, port: Int, console: Console? = nil, logger: Logger,
        onBound: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: ConsoleContext.self)
        console?.addRoutes(to: router)
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            await hub.isReady()
                ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "database unreachable\n")))
        }
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "liandong"),
            onServerRunning: { channel in await onBound(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Routes swift-metrics to a Prometheus registry (once per process).
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
