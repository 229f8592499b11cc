import Foundation
import LiandongModel
import PostgresNIO

/// One entry of the bureau's resource registers, as `resources list` shows it.
public struct ResourceView: Sendable, Codable {
    public var source: String
    public var number: String
    /// `rescue_team`, `equipment`, `material`, `expert` or `shelter`.
    public var type: String
    public var name: String?
    public var quantity: Double?
    public var unitOfMeasure: String?
    public var status: String?
    public var owner: String?
    public var divisionCode: String?
    public var address: String?
    public var updatedAt: Date
}

extension Inspection {
    /// The resource registers, by type, division and number; only `type`, and only divisions whose
    /// code starts with `division` (`1101` = 北京市 districts), when given.
    public func resources(type: String? = nil, division: String? = nil, limit: Int = 1000) async throws -> [ResourceView] {
        let rows = try await self.rows(
            """
            SELECT source_system, external_id, resource_type, data ->> 'name', hub_number(data ->> 'quantity'),
                   data ->> 'unit_of_measure', status, data ->> 'owner', division_code, data ->> 'address', source_time
            FROM resource
            WHERE (\(type)::text IS NULL OR resource_type = \(type)) AND (\(division)::text IS NULL OR starts_with(division_code, \(division)))
            ORDER BY resource_type, division_code, external_id LIMIT \(limit)
            """, logger: logger)
        var views: [ResourceView] = []
        for try await row in rows {
            let c = try row.decode((String, String, String, String?, Double?, String?, String?, String?, String?, String?, Date).self)
            views.append(
                ResourceView(
                    source: c.0, number: c.1, type: c.2, name: c.3, quantity: c.4, unitOfMeasure: c.5, status: c.6, owner: c.7,
                    divisionCode: c.8, address: c.9, updatedAt: c.10))
        }
        return views
    }
}
