import Foundation

/// Personal data as the console and the API mask it for users without the `personal_data`
/// permission: callers' and citizens' phone and ID numbers, people's names and patients' conditions.
/// Fields are told by their canonical names; free text and raw documents by the shape of a phone or
/// ID number, and by the source keys a mapping reads personal fields from.
public enum PersonalData {
    /// How one personal field is masked.
    public enum Kind: Sendable, Equatable {
        case phone, idNumber, name
        /// Patients' conditions: nothing of them is shown.
        case condition
    }

    /// The kind of personal data a field named `name` holds (the last part of a dotted path), if any.
    public static func kind(ofField name: String) -> Kind? {
        let key = name.split(separator: ".").last.map(String.init)?.lowercased() ?? name.lowercased()
        if key.hasSuffix("phone") || key.hasSuffix("mobile") || key.hasSuffix("_tel") || key == "tel" { return .phone }
        if key.hasSuffix("id_number") || key.hasSuffix("id_card") { return .idNumber }
        if personNames.contains(key) { return .name }
        if conditions.contains(key) { return .condition }
        return nil
    }

    /// Fields naming people (not agencies, stations or resources).
    private static let personNames: Set<String> = [
        "caller_name", "citizen_name", "contact_name", "reporter_name", "patient_name", "person_name", "monitor_name",
        "complainant", "contact", "monitor",
    ]
    /// Fields describing patients.
    private static let conditions: Set<String> = ["patients", "patient_condition", "condition", "chief_complaint", "diagnosis"]

    /// The mask of one value of `kind`: the shape kept where `Masking` keeps it, else only stars.
    public static func mask(_ value: String, as kind: Kind) -> String {
        switch kind {
        case .phone: Masking.phone.apply(value) ?? stars(value)
        case .idNumber: Masking.idNumber.apply(value) ?? stars(value)
        case .name: Masking.name.apply(value) ?? stars(value)
        case .condition: "***"
        }
    }

    private static func stars(_ value: String) -> String { String(repeating: "*", count: max(3, min(value.count, 8))) }

    /// `value` with every personal field inside it masked, and phone and ID numbers in the remaining
    /// text masked by shape. `field` is the name `value` is held under, if any.
    public static func masked(_ value: FieldValue, field: String? = nil) -> FieldValue {
        if let field, let kind = kind(ofField: field) { return maskedLeaves(value, as: kind) }
        switch value {
        case .object(let members):
            return .object(Dictionary(uniqueKeysWithValues: members.map { ($0.key, masked($0.value, field: $0.key)) }))
        case .array(let items): return .array(items.map { masked($0) })
        case .string(let text): return .string(maskedText(text))
        case .null, .bool, .number: return value
        }
    }

    private static func maskedLeaves(_ value: FieldValue, as kind: Kind) -> FieldValue {
        switch value {
        case .string(let text): .string(mask(text, as: kind))
        case .number: .string(mask(value.scalarText ?? "", as: kind))
        case .array(let items): .array(items.map { maskedLeaves($0, as: kind) })
        case .object(let members): .object(members.mapValues { maskedLeaves($0, as: kind) })
        case .null, .bool: value
        }
    }

    /// `text` with every run of digits shaped like a mobile number (11 digits from 13–19, also written
    /// `138-1234-5678`, `138 1234 5678` or after `+86`), a fixed line (0 and 9 to 12 digits, a dash
    /// allowed after the area code) or an 18-character resident ID masked; other digits are left.
    public static func maskedText(_ text: String) -> String {
        runsMasked(spacedMobilesMasked(text))
    }

    /// Mobile numbers written in groups (`138-1234-5678`, `138 1234 5678`), with or without `+86`;
    /// a match with a digit right before or after it is part of a longer number and left.
    private static func spacedMobilesMasked(_ text: String) -> String {
        let spacedMobile = /(?:\+?86[- ]?)?1[3-9][0-9][- ][0-9]{4}[- ][0-9]{4}/
        var out = ""
        var rest = text.startIndex
        for match in text.matches(of: spacedMobile) {
            let range = match.range
            let before = range.lowerBound > text.startIndex ? text[text.index(before: range.lowerBound)] : " "
            let after = range.upperBound < text.endIndex ? text[range.upperBound] : " "
            guard !before.isNumber, !after.isNumber else { continue }
            let digits = text[range].filter(\.isNumber)
            out += text[rest..<range.lowerBound]
            out += Masking.phone.apply(String(digits.suffix(11))) ?? String(repeating: "*", count: digits.count)
            rest = range.upperBound
        }
        return out + text[rest...]
    }

    private static func runsMasked(_ text: String) -> String {
        var out = ""
        var run = ""
        func flush() {
            out += maskedRun(run)
            run = ""
        }
        for character in text {
            if character.isASCII && (character.isNumber || ((character == "X" || character == "x") && run.count == 17)
                || (character == "-" && run.first == "0" && (3...4).contains(run.count)))
            {
                run.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }

    private static func maskedRun(_ run: String) -> String {
        let digits = run.filter(\.isNumber)
        if looksLikeIDNumber(run) { return Masking.idNumber.apply(run) ?? run }
        if digits.count == 11 && run.first == "1" && !run.contains("-") && !"012".contains(Array(run)[1]) {
            return Masking.phone.apply(run) ?? run
        }
        // +86 or 86 before a mobile number, written without a separator.
        if digits.count == 13 && run.hasPrefix("86") && Array(run)[2] == "1" && !"012".contains(Array(run)[3]) {
            return "86" + (Masking.phone.apply(String(run.dropFirst(2))) ?? run)
        }
        if run.first == "0" && (10...12).contains(digits.count) { return Masking.phone.apply(run) ?? run }
        return run
    }

    /// An 18-character resident ID: a division prefix (first digit 1–8), a birth date (19xx or 20xx,
    /// month 01–12) and a check character; other 18-digit numbers (ticket numbers) are left.
    private static func looksLikeIDNumber(_ run: String) -> Bool {
        let chars = Array(run)
        guard chars.count == 18, let first = chars[0].wholeNumberValue, (1...8).contains(first) else { return false }
        let century = String(chars[6..<8])
        let month = Int(String(chars[10..<12])) ?? 0
        return (century == "19" || century == "20") && (1...12).contains(month)
    }

    /// The personal values inside `value` (strings under personal fields), with their kinds.
    public static func values(in value: FieldValue, field: String? = nil) -> [String: Kind] {
        if let field, let kind = kind(ofField: field) {
            return Dictionary(leaves(of: value).map { ($0, kind) }) { first, _ in first }
        }
        switch value {
        case .object(let members):
            return members.reduce(into: [:]) { found, member in found.merge(values(in: member.value, field: member.key)) { a, _ in a } }
        case .array(let items): return items.reduce(into: [:]) { found, item in found.merge(values(in: item)) { a, _ in a } }
        case .null, .bool, .number, .string: return [:]
        }
    }

    private static func leaves(of value: FieldValue) -> [String] {
        switch value {
        case .string(let text): [text]
        case .number: value.scalarText.map { [$0] } ?? []
        case .array(let items): items.flatMap(leaves(of:))
        case .object(let members): members.values.flatMap(leaves(of:))
        case .null, .bool: []
        }
    }

    /// A document's text (a raw payload, a document as sent) with personal data masked: the values
    /// under `keys` (the source keys a mapping reads personal fields from, with their kinds) —
    /// `"KEY": "value"` in JSON, `<KEY>value</KEY>` or `KEY="value"` in XML —, every occurrence of
    /// `values` (personal values known from the record), then phone and ID numbers by shape.
    public static func maskedDocument(_ text: String, keys: [String: Kind], values: [String: Kind] = [:]) -> String {
        var result = text
        // Longest first, so that a value inside another is not masked apart from it.
        for (value, kind) in values.sorted(by: { ($0.key.count, $0.key) > ($1.key.count, $1.key) }) where value.count >= 2 {
            result = result.replacingOccurrences(of: value, with: mask(value, as: kind))
        }
        for (key, kind) in keys.sorted(by: { $0.key < $1.key }) {
            result = replacingValues(in: result, after: "\"\(key)\"", opening: "\"", closing: "\"", kind: kind, colon: true)
            result = replacingValues(in: result, after: "<\(key)>", opening: nil, closing: "<", kind: kind, colon: false)
            result = replacingValues(in: result, after: " \(key)=", opening: "\"", closing: "\"", kind: kind, colon: false)
        }
        return maskedText(result)
    }

    /// Masks every value that follows `marker` (after a `:` and spaces where `colon`), from `opening`
    /// (or right after the marker) up to `closing`.
    private static func replacingValues(
        in text: String, after marker: String, opening: Character?, closing: Character, kind: Kind, colon: Bool
    ) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: marker) {
            out += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            var prefix = ""
            if colon {
                let spaces = rest.prefix { $0 == " " || $0 == ":" || $0 == "\t" }
                guard spaces.contains(":") else { continue }
                prefix += spaces
                rest = rest.dropFirst(spaces.count)
            }
            if let opening {
                guard rest.first == opening else {
                    out += prefix
                    continue
                }
                prefix.append(opening)
                rest = rest.dropFirst()
            }
            guard let end = rest.firstIndex(of: closing) else {
                out += prefix
                continue
            }
            out += prefix + mask(String(rest[..<end]), as: kind)
            rest = rest[end...]
        }
        return out + rest
    }
}
