import Foundation
import LiandongHub
import LiandongTestSupport
import Testing

@testable import liandong

/// `bench`'s reading of PostgreSQL's CPU from `/proc`.
@Suite struct ServerCPUTests {
    /// A test server's backend leads to its postmaster, whose CPU grows as it works; a process id that
    /// is not PostgreSQL's (as a server in a container would give) reads as no server at all.
    @Test func readsTheServerOfABackendAndNothingElse() async throws {
        let location = try await TestDatabase.makeFreshDatabase()
        try await Hub.withHub(at: location, policies: .none, logger: TestDatabase.logger) { hub in
            let server = try #require(ServerCPU(backend: try await hub.serverProcessID()))
            let before = try #require(server.seconds())
            try await OutsideSQL(location).execute("SELECT count(*) FROM generate_series(1, 3000000)")
            #expect(try #require(server.seconds()) > before)
        }
        #expect(ServerCPU(backend: getpid()) == nil, "this test process is no PostgreSQL backend")
    }
}
