import Foundation

/// Paths tests read from: the repository's own `Mappings/` and the shared samples beside it.
public enum Repository {
    /// The repository root (the folder holding `Package.swift`).
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Mappings/`.
    public static let mappings = root.appendingPathComponent("Mappings")
    /// The agency folders.
    public static let adapters = root.appendingPathComponent("Adapters")

    /// `../shared/samples/`: real documents nobody on the project wrote.
    public static let samples = root.deletingLastPathComponent().appendingPathComponent("shared/samples")

    /// A sample file's bytes, by its path below `samples/`.
    public static func sample(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: samples.appendingPathComponent(path)))
    }

    /// The built `liandong` executable, beside the test bundle.
    public static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("liandong")
    }
}
