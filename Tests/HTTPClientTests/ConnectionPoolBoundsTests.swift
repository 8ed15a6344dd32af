import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

/// Waits up to two seconds for `condition` (a server notices a closed connection on its own loop).
private func eventually(_ condition: () -> Bool) -> Bool {
    for _ in 0..<200 {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// A pooled connection that only records being closed: the pool's bookkeeping is under test
/// here, with no socket behind it.
private final class RecordedConnection: PooledConnection {
    var closed = false
    var isReusable: Bool { !closed }
    func close() { closed = true }
}

/// Nothing a client keeps grows without bound: idle connections over all origins stop at
/// `maxIdleConnections` (the longest idle is closed), expired ones close on any use of the pool,
/// and an origin's entry goes when nothing uses it.
@Suite struct ConnectionPoolBoundsTests {
    @Test(arguments: HTTPEngine.allCases)
    func idleConnectionsOverAllOriginsStopAtTheCapOldestClosedFirst(engine: HTTPEngine) throws {
        let servers = try (0..<3).map { _ in try TestHTTPServer.start() }
        defer { for server in servers { server.stop() } }
        let client = Client(configuration: HTTPClientConfiguration(maxIdleConnections: 2))
        try onLoop {
            // The last one goes back to the newest origin: its idle connection is reused.
            for server in servers + [servers[2]] {
                let body = try await client.get("\(server.baseURL)/gen/100", engine: engine).body.collect()
                #expect(body.count == 100)
            }
        }
        let idle = engine == .loop ? client.pool.idleCount : client.blockingClient.pool.idleCount
        #expect(idle == 2)
        #expect(eventually { servers[0].stats.openConnections == 0 }, "the oldest idle connection was closed")
        #expect(servers[1].stats.openConnections == 1 && servers[2].stats.openConnections == 1)
        #expect(servers[2].stats.connectionsAccepted == 1 && servers[2].stats.requestsServed == 2)
    }

    @Test(arguments: HTTPEngine.allCases)
    func anExpiredConnectionClosesOnTheNextUseOfThePoolWhateverItsOrigin(engine: HTTPEngine) throws {
        let first = try TestHTTPServer.start()
        let second = try TestHTTPServer.start()
        defer {
            first.stop()
            second.stop()
        }
        let client = Client(configuration: HTTPClientConfiguration(idleConnectionExpiry: .milliseconds(150)))
        try onLoop {
            _ = try await client.get("\(first.baseURL)/gen/10", engine: engine).body.collect()
            try await sleep(for: .milliseconds(300))
            _ = try await client.get("\(second.baseURL)/gen/10", engine: engine).body.collect()
        }
        #expect(eventually { first.stats.openConnections == 0 }, "the first origin is never asked again, yet its connection closed")
        #expect(second.stats.openConnections == 1)
        #expect(client.stats.idleConnections + client.blockingClient.stats.idleConnections == 1)
    }

    @Test func anOriginsEntryGoesWhenNothingUsesIt() throws {
        let pool = ConnectionPool<RecordedConnection>(maxPerOrigin: 1, maxIdle: 4, expiry: .seconds(60))
        let url = try HTTPURL("http://127.0.0.1:1/")
        // A thousand origins, each used once and given back: no entry stays.
        for port in 1...1000 {
            var key = PoolKey(url, loop: nil)
            key.port = UInt16(port)
            #expect(pool.acquirePermitBlocking(for: key, timeout: nil))
            pool.releasePermit(for: key)
        }
        #expect(pool.originCount == 0)

        // A permit held, a second request timing out: the entry stays for the holder only.
        let key = PoolKey(url, loop: nil)
        #expect(pool.acquirePermitBlocking(for: key, timeout: nil))
        #expect(!pool.acquirePermitBlocking(for: key, timeout: .milliseconds(20)), "the origin's one permit is held")
        #expect(pool.originCount == 1)
        let connection = RecordedConnection()
        pool.checkIn(connection, for: key)
        #expect(pool.originCount == 1 && pool.idleCount == 1, "the idle connection keeps its origin's entry")
        // Its permit came back with the check-in: the next request gets it and the connection.
        #expect(pool.acquirePermitBlocking(for: key, timeout: .milliseconds(20)))
        #expect(pool.takeIdle(for: key) === connection)
        pool.releasePermit(for: key)
        #expect(pool.originCount == 0 && pool.idleCount == 0 && !connection.closed)
    }

    @Test func checkInsPastTheCapCloseTheLongestIdleAndACapOfZeroKeepsNone() throws {
        let url = try HTTPURL("http://127.0.0.1:1/")
        let pool = ConnectionPool<RecordedConnection>(maxPerOrigin: 8, maxIdle: 3, expiry: .seconds(60))
        var connections: [RecordedConnection] = []
        for port in 1...5 {
            var key = PoolKey(url, loop: nil)
            key.port = UInt16(port)
            #expect(pool.acquirePermitBlocking(for: key, timeout: nil))
            let connection = RecordedConnection()
            connections.append(connection)
            pool.checkIn(connection, for: key)
        }
        #expect(pool.idleCount == 3 && pool.originCount == 3)
        #expect(connections.map(\.closed) == [true, true, false, false, false], "the two longest idle were closed")

        let none = ConnectionPool<RecordedConnection>(maxPerOrigin: 1, maxIdle: 0, expiry: .seconds(60))
        let key = PoolKey(url, loop: nil)
        #expect(none.acquirePermitBlocking(for: key, timeout: nil))
        let connection = RecordedConnection()
        none.checkIn(connection, for: key)
        #expect(connection.closed && none.idleCount == 0 && none.originCount == 0)
    }

    /// The smallest connection buffer still carries a large chunked body and a head read in
    /// several pieces; a smaller setting is raised to it.
    @Test(arguments: HTTPEngine.allCases)
    func aSmallConnectionBufferCarriesEveryKindOfResponse(engine: HTTPEngine) throws {
        let configuration = HTTPClientConfiguration(connectionBufferSize: 1)
        #expect(configuration.connectionBufferSize == 8 << 10)
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let base = server.baseURL
        let client = Client(configuration: configuration)
        try onLoop {
            let chunked = try await client.get(TestServerURL(base).gen(1_000_000).seed(4).chunked(chunk: 3000).string, engine: engine)
            #expect(try await readGenerated(chunked.body, seed: 4) == 1_000_000)
            let plain = try await client.get("\(base)/gen/300000?seed=5", engine: engine)
            #expect(try await readGenerated(plain.body, seed: 5) == 300_000)
        }
        #expect(server.stats.connectionsAccepted == 1, "both on one kept-alive connection")
    }
}
