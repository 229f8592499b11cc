import LiandongModel

extension FieldValue {
    /// Parses JSON the hub stored itself (a `jsonb` column read as text). Such text always parses;
    /// when it does not, the row is damaged, and reading it fails rather than carrying on with an
    /// empty value that would then be written back or delivered.
    init(stored text: String) throws {
        do {
            self = try FieldValue(jsonText: text)
        } catch {
            throw HubError(.corruptData, "a stored JSON value does not parse (\(error)); the row is damaged", underlying: error)
        }
    }

    /// Stored JSON that must be an object (a record's or an incident's fields, a payload as granted).
    static func storedObject(_ text: String) throws -> [String: FieldValue] {
        guard let object = try FieldValue(stored: text).objectValue else {
            throw HubError(.corruptData, "a stored JSON value is not an object; the row is damaged")
        }
        return object
    }
}
