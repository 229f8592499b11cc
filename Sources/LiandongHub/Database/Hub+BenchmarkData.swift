import Foundation
import LiandongModel
import PostgresNIO

extension Hub {
    /// What `fillForConsoleBenchmark` wrote.
    public struct BenchmarkData: Sendable, Codable {
        public var workOrders: Int
        public var incidents: Int
        public var failures: Int
        public var openFailures: Int
        public var deliveries: Int
        public var deadDeliveries: Int
        public var auditEntries: Int
        /// A work-order number inside a quarantined payload, to search for.
        public var quarantinedWorkOrder: String
    }

    /// The process id of the server process answering this hub's connection (`pg_backend_pid()`):
    /// `bench` finds the server's other processes from it when the server runs on this machine.
    public func serverProcessID() async throws -> Int32 {
        Int32(try await scalar("SELECT pg_backend_pid()"))
    }

    /// Fills an empty, throwaway database with `records` 12345 work orders and what a hub of that size
    /// holds around them — their raw payloads, xref rows, an incident per two orders, a delivery each to
    /// 110 (1 % dead), a failure per twenty (one in ten of them open), an audit entry each and a day of
    /// sync runs — written by SQL in a few statements, for `bench console` to time the console's pages
    /// against. The audit entries are not a valid chain: never run this on a hub that matters.
    public func fillForConsoleBenchmark(records: Int) async throws -> BenchmarkData {
        let failures = max(records / 20, 10)
        let statements: [PostgresQuery] = [
            """
            INSERT INTO raw_payload (sha256, source_system, stream, name, content_type, detected_encoding, body)
            SELECT sha256(('bench-' || g)::bytea), 'hotline-12345', 'work-orders', 'page-' || g, 'application/json', 'utf-8',
                   convert_to('{"code":0,"data":{"items":[{"orderNo":"GD' || lpad(g::text, 9, '0') || '","matter":"噪音扰民","citizenPhone":"138'
                              || lpad((g % 100000000)::text, 8, '0') || '","areaCode":"420102","status":"登记"}]}}', 'UTF8')
            FROM generate_series(1, \(records)) g
            """,
            """
            INSERT INTO work_order (id, source_system, external_id, version, source_time, content_hash, data, mapping, mapping_version, raw_payload_id)
            SELECT md5('wo-' || g)::uuid, 'hotline-12345', 'GD' || lpad(g::text, 9, '0'), 1, now() - make_interval(secs => g),
                   sha256(('wo-' || g)::bytea),
                   jsonb_build_object('order_no', 'GD' || lpad(g::text, 9, '0'), 'status', (ARRAY['registered','accepted','closed'])[1 + g % 3],
                       'matter', '道路积水', 'address', '武汉市江岸区解放大道' || (g % 2000) || '号', 'division_code', '4201' || lpad((g % 17)::text, 2, '0'),
                       'citizen_phone', '138****' || lpad((g % 10000)::text, 4, '0'), 'reported_at', to_char(now() - make_interval(secs => g), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       'location', jsonb_build_object('lat', 30.5 + (g % 1000) / 10000.0, 'lon', 114.3 + (g % 997) / 10000.0)),
                   'hotline-12345/work-order', 2, g
            FROM generate_series(1, \(records)) g
            """,
            """
            INSERT INTO xref (source_system, external_id, entity_kind, entity_id)
            SELECT 'hotline-12345', 'GD' || lpad(g::text, 9, '0'), 'work_order', md5('wo-' || g)::uuid FROM generate_series(1, \(records)) g
            """,
            """
            INSERT INTO incident (id, version, data, provenance, content_hash, created_at, updated_at)
            SELECT md5('in-' || g)::uuid, 1,
                   jsonb_build_object('category', 'accident', 'incident_type', 'waterlogging', 'status', (ARRAY['open','closed'])[1 + g % 2],
                       'division_code', '4201' || lpad((g % 17)::text, 2, '0'), 'address', '武汉市江岸区解放大道' || (g % 2000) || '号',
                       'reported_at', to_char(now() - make_interval(secs => 2 * g), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
                   '{}'::jsonb, sha256(('in-' || g)::bytea), now(), now()
            FROM generate_series(1, \(records / 2)) g
            """,
            """
            INSERT INTO incident_report (report_id, report_kind, incident_id, reason)
            SELECT md5('wo-' || g)::uuid, 'work_order', md5('in-' || ((g + 1) / 2))::uuid, CASE WHEN g % 2 = 1 THEN 'new' ELSE 'match' END
            FROM generate_series(1, \(records / 2 * 2)) g
            """,
            """
            INSERT INTO outbox (target, entity_kind, entity_id, entity_version, idempotency_key, agreement_version, payload, status,
                                attempts, next_attempt_at, last_error, created_at, delivered_at)
            SELECT 'police-110', 'work_order', md5('wo-' || g)::uuid, 1, md5('ob-' || g), 1, '{"matter":"道路积水"}'::jsonb,
                   CASE WHEN g % 100 = 0 THEN 'dead' ELSE 'delivered' END, 1, now(), CASE WHEN g % 100 = 0 THEN 'HTTP 503' END,
                   now() - make_interval(secs => g), CASE WHEN g % 100 = 0 THEN NULL ELSE now() END
            FROM generate_series(1, \(records)) g
            """,
            """
            INSERT INTO mapping_failure (raw_payload_id, record_index, source_system, stream, external_id, mapping, mapping_version, failures,
                                         status, first_seen, last_seen)
            SELECT g * 20, 0, 'hotline-12345', 'work-orders', 'GD' || lpad((g * 20)::text, 9, '0'), 'hotline-12345/work-order', 1,
                   jsonb_build_array(jsonb_build_object('path', (ARRAY['matter','status','areaCode'])[1 + g % 3],
                       'rule', (ARRAY['allowed','code','division'])[1 + g % 3], 'value', 'x' || (g % 50), 'message', 'not allowed')),
                   CASE WHEN g % 10 = 0 THEN 'open' WHEN g % 2 = 0 THEN 'ignored' ELSE 'replayed' END,
                   now() - make_interval(secs => 20 * g), now() - make_interval(secs => 20 * g)
            FROM generate_series(1, \(failures)) g
            """,
            """
            INSERT INTO audit_entry (seq, at, action, entity_kind, entity_id, body, prev_hash, hash)
            SELECT g, now() - make_interval(secs => g), CASE WHEN g % 5000 = 0 THEN 'ignore' ELSE 'insert' END, 'work_order',
                   md5('wo-' || g)::uuid::text, '{"by":"bench","reason":"bench"}', sha256(('a-' || (g - 1))::bytea), sha256(('a-' || g)::bytea)
            FROM generate_series(1, \(records)) g
            """,
            "UPDATE audit_head SET seq = \(records), hash = sha256(('a-' || \(records))::bytea) WHERE id = 1",
            """
            INSERT INTO stream_state (source_system, stream, last_run_at, last_ok_at, next_run_at, newest_source_time)
            VALUES ('hotline-12345', 'work-orders', now(), now(), now() + interval '5 seconds', now() - interval '40 seconds')
            ON CONFLICT DO NOTHING
            """,
            """
            INSERT INTO sync_run (source_system, stream, started_at, finished_at, pulled, inserted, newest_source_time)
            SELECT 'hotline-12345', 'work-orders', now() - make_interval(secs => g * 5), now() - make_interval(secs => g * 5 - 1),
                   (g * 7) % 400, (g * 7) % 400, now() - make_interval(secs => g * 5 + 30 + g % 60)
            FROM generate_series(1, 17280) g
            """,
        ]
        for statement in statements { try await rows(statement, logger: logger) }
        for table in ["raw_payload", "work_order", "xref", "incident", "incident_report", "outbox", "mapping_failure", "audit_entry", "sync_run"] {
            try await rows(PostgresQuery(unsafeSQL: "ANALYZE \(table)"), logger: logger)
        }
        let open = (1...failures).filter { $0 % 10 == 0 }
        return BenchmarkData(
            workOrders: records, incidents: records / 2, failures: failures, openFailures: open.count, deliveries: records,
            deadDeliveries: records / 100, auditEntries: records, quarantinedWorkOrder: "GD" + String(format: "%09d", (open.last ?? 10) * 20))
    }
}
