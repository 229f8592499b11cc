import Foundation
import Testing

extension Tag {
    /// Suites that start or use the test PostgreSQL (`TestDatabase`). Each also carries the
    /// `.runsWithDatabase` condition, so that `LIANDONG_TEST_DATABASE=skip swift test` runs the
    /// others alone, in seconds.
    @Tag public static var database: Self
}

extension Trait where Self == ConditionTrait {
    /// On by default; off under `LIANDONG_TEST_DATABASE=skip` (the whole suite, as CI runs it, never sets it).
    public static var runsWithDatabase: Self {
        .enabled(
            if: ProcessInfo.processInfo.environment["LIANDONG_TEST_DATABASE"] != "skip",
            "uses the test PostgreSQL, and LIANDONG_TEST_DATABASE=skip is set")
    }
}
