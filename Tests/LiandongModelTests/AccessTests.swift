import LiandongModel
import Testing

/// Who may do what, and what is masked for whom.
@Suite struct AccessTests {
    @Test(arguments: [
        ("viewer", Permission.read, nil as String?, true),
        ("viewer", .operate, nil, false),
        ("operator@fire-119", .operate, "fire-119", true),
        ("operator@fire-119", .operate, "police-110", false),
        ("operator@fire-119", .operate, nil, false),
        ("auditor", .audit, nil, true),
        ("auditor", .manageUsers, nil, false),
        ("admin", .manageUsers, nil, true),
        ("admin", .personalData, nil, false),
        ("personal_data@ambulance-120", .personalData, "ambulance-120", true),
        ("personal_data@ambulance-120", .read, "ambulance-120", false),
    ])
    func grantsAllowWhatTheyNameAndNothingElse(grant: String, permission: Permission, agency: String?, allowed: Bool) throws {
        let principal = Principal(user: "u", grants: [try #require(Grant(text: grant))])
        #expect(principal.may(permission, for: agency) == allowed)
    }

    @Test func grantsReadAndWriteAsText() throws {
        #expect(Grant(text: "operator@police-110,fire-119")?.text == "operator@fire-119,police-110")
        #expect(Grant(text: "operator@") == nil, "no agency named is not every agency")
        #expect(Grant(text: "root") == nil)
        #expect(Principal(user: "nobody", grants: []).mayAny(.read) == false, "deny by default")
        #expect(Principal(user: "u", grants: [Grant(.viewer, agencies: ["fire-119"])]).agencies(for: .read) == ["fire-119"])
    }

    @Test(arguments: [
        ("call 13812345678 now", "call 138****5678 now"),
        ("call 138-1234-5678 now", "call 138****5678 now"),
        ("call 138 1234 5678 now", "call 138****5678 now"),
        ("call +8613812345678", "call +86138****5678"),
        ("fixed 0571-88886666", "fixed 057*****6666"),
        ("id 110101199003071234 here", "id 110101********1234 here"),
        ("ticket 202612030001234567 stays", "ticket 202612030001234567 stays"),
        ("GD20261203017 stays", "GD20261203017 stays"),
        ("12345 stays", "12345 stays"),
    ])
    func textIsMaskedByShape(text: String, masked: String) {
        #expect(PersonalData.maskedText(text) == masked)
    }

    @Test func fieldsAreMaskedByName() {
        let record: FieldValue = .object([
            "caller_phone": .string("13812345678"), "caller_name": .string("张三"), "patients": .array([.string("胸痛")]),
            "address": .string("解放大道 1 号，联系 13912345678"), "order_no": .string("GD1"),
        ])
        let masked = PersonalData.masked(record).objectValue ?? [:]
        #expect(masked["caller_phone"] == .string("138****5678"))
        #expect(masked["caller_name"] == .string("张*"))
        #expect(masked["patients"] == .array([.string("***")]))
        #expect(masked["address"] == .string("解放大道 1 号，联系 139****5678"))
        #expect(masked["order_no"] == .string("GD1"))
        #expect(PersonalData.values(in: record)["张三"] == .name)
    }

    @Test func documentsAreMaskedByTheirSourceKeys() {
        let json = #"{"BJRXM":"李四","BJRDH":"1381234567","DZ":"江岸区"}"#
        let masked = PersonalData.maskedDocument(json, keys: ["BJRXM": .name, "BJRDH": .phone])
        #expect(masked == #"{"BJRXM":"李*","BJRDH":"138***4567","DZ":"江岸区"}"#)
        let xml = "<r><BJRXM>李四</BJRXM><DZ>江岸区</DZ></r>"
        #expect(PersonalData.maskedDocument(xml, keys: ["BJRXM": .name]) == "<r><BJRXM>李*</BJRXM><DZ>江岸区</DZ></r>")
        #expect(PersonalData.maskedDocument("寄给 王五 的回执", keys: [:], values: ["王五": .name]) == "寄给 王* 的回执")
    }
}
