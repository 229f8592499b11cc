import Foundation

/// The Python tools some tests drive (Selenium for a real browser, schemathesis for the API), in a
/// virtual environment at `.build/python-tools` made from `Tests/Browser/requirements.txt` on first
/// use (`.ci/run` makes it before the tests). Installing needs PyPI; failing that, the error says so.
public enum PythonTools {
    /// The environment's folder.
    public static let folder = Repository.root.appendingPathComponent(".build/python-tools")

    /// The path of `program` in the environment (`python`, `schemathesis`), made first if needed.
    public static func program(_ program: String) async throws -> URL {
        let path = folder.appendingPathComponent("bin/\(program)")
        if !FileManager.default.isExecutableFile(atPath: path.path) || !FileManager.default.fileExists(atPath: marker.path) {
            try await install()
        }
        return path
    }

    /// Written once every requirement is installed.
    private static var marker: URL { folder.appendingPathComponent(".installed") }

    private static func install() async throws {
        let system = URL(fileURLWithPath: "/usr/bin/env")
        let made = try await CommandLineRunner(executable: system).run(["python3", "-m", "venv", folder.path])
        guard made.status == 0 else { throw Failure("python3 -m venv \(folder.path) failed: \(made.stderr)") }
        let requirements = Repository.root.appendingPathComponent("Tests/Browser/requirements.txt")
        let pip = try await CommandLineRunner(executable: folder.appendingPathComponent("bin/pip")).run(
            ["install", "--quiet", "--disable-pip-version-check", "-r", requirements.path])
        guard pip.status == 0 else { throw Failure("pip install -r \(requirements.path) failed (PyPI reachable?): \(pip.stderr.suffix(2000))") }
        _ = FileManager.default.createFile(atPath: marker.path, contents: Data())
    }

    /// Why the tools could not be made.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Debian's chromedriver (packages chromium and chromium-driver), or an error naming them.
    public static func chromeDriver() throws -> URL {
        for path in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw Failure("no chromedriver: install Debian's chromium and chromium-driver (.ci/run does)")
    }
}
