import Foundation

/// Paths for the files and folders a test makes: all below one folder per test process, removed
/// when the process exits (and, should a run be killed, by the next run), so `/tmp` stays clean.
public enum Scratch {
    /// A new path below the process's scratch folder, `<prefix>-<uuid>[.<ext>]`; nothing is created.
    public static func path(_ prefix: String, extension ext: String? = nil) -> URL {
        let name = "\(prefix)-\(UUID().uuidString)" + (ext.map { ".\($0)" } ?? "")
        return root.appendingPathComponent(name)
    }

    private static let root: URL = {
        let temporary = URL(fileURLWithPath: NSTemporaryDirectory())
        removeFoldersOfDeadProcesses(in: temporary)
        let root = temporary.appendingPathComponent("\(folderPrefix)\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // The embedded PostgreSQL runs as the `postgres` user when tests run as root: it must be
        // able to reach data directories made below here.
        _ = chmod(root.path, 0o777)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return root
    }()

    private static let folderPrefix = "liandong-scratch-"

    private static func removeFoldersOfDeadProcesses(in temporary: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        for name in names where name.hasPrefix(folderPrefix) {
            guard let pid = pid_t(name.dropFirst(folderPrefix.count)), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
        }
    }
}
