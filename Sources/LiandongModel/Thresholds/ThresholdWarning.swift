import Foundation

/// The warning message a reading leads to, given the station's current warning from the same rule:
/// the fields of a warning as the CAP mapping reads a weather office's (identifier, sender, sent,
/// status, msgType, scope, references, colour, event, info with its area), plus the station, the
/// reading and the limit exceeded. Its identifier is `<system>-<station>-<reading time in China>`,
/// so the same reading always makes the same message.
public struct ThresholdWarning: Sendable, Equatable {
    public var identifier: String
    public var fields: [String: FieldValue]
    /// The message it supersedes (the station's warning it updates or cancels), if any.
    public var supersedes: String?

    /// The message `reading` calls for after `current` (the station's latest message of this rule,
    /// nil if none): an `Alert` when a limit is first exceeded, an `Update` when the colour changes,
    /// a `Cancel` when the reading is back below every limit; nil when nothing changes, and for a
    /// reading without a value (a gauge that sent nothing clears no warning).
    public static func next(
        after current: [String: FieldValue]?, rule: ThresholdRule, system: SourceSystemID, reading: [String: FieldValue],
        limits: [[String: FieldValue]], station: [String: FieldValue]?
    ) -> ThresholdWarning? {
        guard let code = reading[rule.station]?.scalarText, let time = reading[rule.at]?.scalarText.flatMap(Date.init(canonicalText:)),
            let value = reading[rule.value]?.numberValue
        else { return nil }
        let active = current.flatMap { $0["msg_type"]?.stringValue == "Cancel" ? nil : $0 }
        let crossing = rule.crossing(of: reading, limits: limits)
        let msgType: String
        switch (active, crossing) {
        case (nil, nil): return nil
        case (nil, _?): msgType = "Alert"
        case (_?, nil): msgType = "Cancel"
        case (let active?, let crossing?):
            guard active["colour"]?.stringValue != crossing.level.colour else { return nil }
            msgType = "Update"
        }
        let stamp = Self.text(time, "yyyyMMddHHmmss")
        let identifier = "\(system.rawValue)-\(code)-\(stamp)"
        let name = station?["name"]?.scalarText.map { "\($0)站" } ?? "测站 \(code)"
        let level = crossing?.level ?? active.flatMap { a in rule.levels.first { $0.colour == a["colour"]?.stringValue } } ?? rule.levels[0]
        let headline: String
        let description: String
        if let crossing {
            headline = "\(name)\(rule.quantity)超\(crossing.level.name)"
            description = "\(name)\(Self.text(time, "yyyy-MM-dd HH:mm"))实测\(rule.quantity)\(Self.number(crossing.value))\(rule.unit)，"
                + "超过\(crossing.level.name)\(Self.number(crossing.limit))\(rule.unit)\(Self.number(crossing.value - crossing.limit))\(rule.unit)。"
        } else {
            headline = "\(name)\(rule.quantity)回落，超\(level.name)预警解除"
            description = "\(name)\(Self.text(time, "yyyy-MM-dd HH:mm"))实测\(rule.quantity)\(Self.number(value))\(rule.unit)，已回落至各限值以下。"
        }
        let sent = FieldValue.string(time.canonicalText)
        var area: [String: FieldValue] = ["description": .string(name)]
        var fields: [String: FieldValue] = [
            "identifier": .string(identifier), "sender": .string(system.rawValue), "sent": sent, "status": "Actual",
            "msg_type": .string(msgType), "scope": "Public", "colour": .string(level.colour), "event": .string("超\(level.name)"),
            "effective": sent, "station_code": .string(code), "threshold_rule": .string(rule.name),
            "reading": .object(["value": .number(value), "at": sent]),
        ]
        if let crossing { fields["limit"] = .object(["name": .string(crossing.level.over), "value": .number(crossing.limit)]) }
        if let division = station?["division_code"] {
            fields["division_code"] = division
            area["geocodes"] = .array([.object(["name": "GB/T 2260", "value": division])])
        }
        if let lat = station?["location"]?.objectValue?["lat"]?.numberValue, let lon = station?["location"]?.objectValue?["lon"]?.numberValue {
            area["circles"] = .array([.string("\(lat),\(lon) 0")])
        }
        // An update or cancel references the message it follows; a new crossing starts afresh.
        let previous = active?["identifier"]?.stringValue
        if let active, let previous {
            fields["references"] = .array([.string("\(active["sender"]?.scalarText ?? system.rawValue),\(previous),\(active["sent"]?.scalarText ?? "")")])
        }
        fields["info"] = .array([
            .object([
                "language": "zh-CN", "categories": .array([.string(rule.category)]), "event": .string("超\(level.name)"),
                "urgency": "Immediate", "severity": .string(level.severity), "certainty": "Observed", "sender_name": .string(system.rawValue),
                "headline": .string(headline), "description": .string(description), "effective": sent, "areas": .array([.object(area)]),
            ])
        ])
        return ThresholdWarning(identifier: identifier, fields: fields, supersedes: previous)
    }

    /// A number as the warning's text writes it: two decimals at most.
    static func number(_ value: Double) -> String {
        FieldValue.format((value * 100).rounded() / 100)
    }

    static func text(_ time: Date, _ pattern: String) -> String {
        let formatter = DateFormatter()
        formatter.calendar = ThresholdRule.chinaCalendar
        formatter.timeZone = ThresholdRule.chinaCalendar.timeZone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = pattern
        return formatter.string(from: time)
    }
}
