import Foundation
import LiandongModel
import PostgresNIO

/// A transfer as admins follow it up (跟踪督办).
public struct TransferView: Sendable, Codable {
    public var no: Int64
    public var id: UUID
    public var rule: String
    public var fromSystem: String
    public var toSystem: String
    public var fromNumber: String
    public var toNumber: String?
    public var reason: String
    public var mode: String
    public var createdAt: Date
    public var acceptDeadline: Date
    public var feedbackDeadline: Date
    public var acceptedAt: Date?
    public var returnedAt: Date?
    public var returnReason: String?
    public var feedback: String?
    public var feedbackAt: Date?
    /// `returned`, `answered`, `accepted` (awaiting feedback) or `sent` (awaiting acceptance).
    public var state: String
    /// What is late: `acceptance` or `feedback`; nil when nothing is.
    public var overdue: String?
}

extension OutboxStore {
    /// Transfers, newest first; with `overdueOnly`, those with no acceptance or no feedback by their
    /// deadline; with `of`, those of these records only.
    public func transfers(overdueOnly: Bool = false, of records: [UUID]? = nil, limit: Int = 500) async throws -> [TransferView] {
        let rows = try await self.rows(
            """
            SELECT * FROM (
                SELECT no, id, rule, from_system, to_system, from_number, to_number, reason, mode, created_at, accept_deadline,
                       feedback_deadline, accepted_at, returned_at, return_reason, feedback, feedback_at,
                       CASE WHEN returned_at IS NOT NULL THEN NULL
                            WHEN accepted_at IS NULL AND now() > accept_deadline THEN 'acceptance'
                            WHEN feedback IS NULL AND now() > feedback_deadline THEN 'feedback' END AS overdue
                FROM transfer WHERE \(records == nil) OR from_entity = ANY(\(records ?? [])::uuid[])) t
            WHERE NOT \(overdueOnly) OR t.overdue IS NOT NULL
            ORDER BY no DESC LIMIT \(limit)
            """, logger: logger)
        var views: [TransferView] = []
        for try await row in rows {
            let c = try row.decode(
                (Int64, UUID, String, String, String, String, String?, String, String, Date, Date, Date, Date?, Date?, String?, String?,
                 Date?, String?).self)
            let state = c.13 != nil ? "returned" : c.15 != nil ? "answered" : c.12 != nil ? "accepted" : "sent"
            views.append(
                TransferView(
                    no: c.0, id: c.1, rule: c.2, fromSystem: c.3, toSystem: c.4, fromNumber: c.5, toNumber: c.6, reason: c.7, mode: c.8,
                    createdAt: c.9, acceptDeadline: c.10, feedbackDeadline: c.11, acceptedAt: c.12, returnedAt: c.13, returnReason: c.14,
                    feedback: c.15, feedbackAt: c.16, state: state, overdue: c.17))
        }
        return views
    }
}
