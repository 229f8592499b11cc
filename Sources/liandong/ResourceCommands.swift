import ArgumentParser
import Foundation
import LiandongHub
import LiandongModel

/// `liandong resources`: the emergency bureau's resource registers as pulled.
struct Resources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The bureau's resource registers: rescue teams, equipment, material stocks, experts, shelters.",
        subcommands: [List.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register entries by type, division and number.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this type: rescue_team, equipment, material, expert or shelter.") var type: String?
        @Option(help: "Only divisions whose code starts with this (1101: 北京市's districts).") var division: String?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            let types = ["rescue_team", "equipment", "material", "expert", "shelter"]
            if let type, !types.contains(type) {
                throw ValidationError("unknown type '\(type)'; expected one of: \(types.joined(separator: ", "))")
            }
            if let division, division.isEmpty || !division.allSatisfy(\.isASCII) || !division.allSatisfy(\.isNumber) {
                throw ValidationError("--division takes the leading digits of a GB/T 2260 code, like 1101")
            }
        }

        func run() async throws {
            let resources = try await Runtime(global).withPlainHub { try await $0.inspection.resources(type: type, division: division) }
            try output.list(resources, "resource") { r in
                let quantity = r.quantity.map { FieldValue.number($0).readableText + (r.unitOfMeasure ?? "") } ?? "-"
                return "\(r.source):\(r.number)  \(r.type)  \(r.name ?? "-")  \(quantity)  \(r.status ?? "-")  \(r.divisionCode ?? "-")"
                    + (r.owner.map { "  \($0)" } ?? "") + (r.address.map { "  \($0)" } ?? "")
            }
        }
    }
}
