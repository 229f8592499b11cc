/// Masking of personal data: what is kept of a phone or ID number before it is stored or shared.
public enum Masking: String, Sendable, CaseIterable, Codable {
    /// Mobile and fixed-line numbers: keep the first three and last four digits (`138****5678`).
    case phone
    /// Resident ID numbers (18 characters, or 15 for old cards): keep the six-digit division prefix
    /// and the last four (`110101********1234`).
    case idNumber = "id_number"
    /// Names: keep the first character (`张**`).
    case name

    /// Applies the mask; characters other than the kept ones become `*`. Returns nil when the value
    /// has not the shape of what is masked, so that the caller can report it.
    public func apply(_ value: String) -> String? {
        let chars = Array(value.filter { !$0.isWhitespace && $0 != "-" })
        switch self {
        case .phone:
            let digits = chars.filter { $0.isASCII && ($0.isNumber || $0 == "*") }
            guard digits.count == chars.count || chars.first == "+", digits.count >= 7 else { return nil }
            return String(digits.prefix(3)) + String(repeating: "*", count: digits.count - 7)
                + String(digits.suffix(4))
        case .idNumber:
            guard chars.count == 18 || chars.count == 15,
                chars.dropLast().allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "*") })
            else { return nil }
            return String(chars.prefix(6)) + String(repeating: "*", count: chars.count - 10)
                + String(chars.suffix(4))
        case .name:
            guard let first = chars.first else { return nil }
            return String(first) + String(repeating: "*", count: max(chars.count - 1, 1))
        }
    }
}
