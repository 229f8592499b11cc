import Foundation
import LiandongMapping

/// A `Mappings/` folder made for one test: the repository's `codes/` plus mapping files given as text.
public enum MappingFixture {
    /// Writes `files` (path below `Mappings/` → YAML text) beside a link to the real `codes/`, and loads it.
    public static func catalog(_ files: [String: String]) throws -> MappingCatalog {
        try MappingCatalog(directory: folder(files))
    }

    /// The folder itself, for tests that load it (or let the CLI load it) themselves.
    public static func folder(_ files: [String: String]) throws -> URL {
        let fm = FileManager.default
        let folder = Scratch.path("mappings")
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        for shared in ["codes", "schemas"] {
            try fm.createSymbolicLink(
                at: folder.appendingPathComponent(shared), withDestinationURL: Repository.mappings.appendingPathComponent(shared))
        }
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// The repository's own mappings.
    public static func repositoryCatalog() throws -> MappingCatalog {
        try MappingCatalog(directory: Repository.mappings)
    }
}
