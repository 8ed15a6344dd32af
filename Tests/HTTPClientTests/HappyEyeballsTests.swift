import HTTPTestServer
import NetCore
import TestSupport
import Testing
import Workers

@testable import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

/// Happy Eyeballs through the HTTP client (issue 14 point 2), on both engines: a host name
/// whose first address drops packets (a loopback port with a full accept queue), given by a
/// resolver whose lookup answers for the test's names (`Resolver(pool:lookUp:)`, which the
/// workers engine calls on its worker thread).
@Suite struct HappyEyeballsClientTests {
    /// A resolver that answers every lookup of `host` with `addresses`, whatever family is asked
    /// for (so the client's own family restriction is what is tested), after `delay` (a slow
    /// resolver, modelled); other names are unknown.
    static func resolver(
        _ host: String, _ addresses: [SocketAddress], delay: Duration = .zero, pool: WorkerPool
    ) -> Resolver {
        Resolver(pool: pool) { name, _, _ in
            guard name == host else { throw ResolverError(code: EAI_NONAME, systemErrno: 0, host: name) }
            if delay > .zero { usleep(UInt32(delay / .microseconds(1))) }
            return addresses
        }
    }

    static func configuration(_ resolver: Resolver, connectTimeout: Duration, happyEyeballs: HappyEyeballs) -> HTTPClientConfiguration {
        var configuration = HTTPClientConfiguration(connectTimeout: connectTimeout)
        configuration.resolver = resolver
        configuration.happyEyeballs = happyEyeballs
        return configuration
    }

    @Test("a download starts within about the attempt delay, not the connect timeout; the loser is closed", arguments: HTTPEngine.allCases)
    func deadFirstAddress(engine: HTTPEngine) throws {
        let dead = try BlackHolePort()
        defer { dead.close() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let pool = try WorkerPool(threads: 2, name: "he-client")
        defer { pool.shutdown() }
        let resolver = Self.resolver("dual.test", [dead.address, .loopbackIPv4(port: server.port)], pool: pool)
        let connectTimeout: Duration = .seconds(30)
        let client = Client(
            configuration: Self.configuration(
                resolver, connectTimeout: connectTimeout, happyEyeballs: HappyEyeballs(attemptDelay: .milliseconds(100))))
        let (toHead, count) = try onLoop {
            let start = ContinuousClock.now
            let response = try await client.get("http://dual.test:\(server.port)/gen/1000000?seed=21", engine: engine)
            let toHead = ContinuousClock.now - start
            return (toHead, try await readGenerated(response.body, seed: 21))
        }
        print(
            "\(engine) engine: the head came \(toHead) after the request (first address dead, attempt delay 100 ms, connect timeout \(connectTimeout))"
        )
        #expect(count == 1_000_000)
        #expect(toHead >= .milliseconds(100), "the second address was tried after the delay")
        #expect(toHead < connectTimeout / 2, "one by one, the dead address alone would hold it for 30 s")
        #expect(dead.pendingConnects == 0, "the attempt to the dead address was closed")
        #expect(server.stats.connectionsAccepted == 1)
    }

    @Test("a family restriction: .v4 never tries the IPv6 address, .v6 never the IPv4 one", arguments: HTTPEngine.allCases)
    func familyRestriction(engine: HTTPEngine) throws {
        let deadV6 = try BlackHolePort(ipv6: true)
        defer { deadV6.close() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let pool = try WorkerPool(threads: 2, name: "he-client")
        defer { pool.shutdown() }
        let resolver = Self.resolver("dual.test", [deadV6.address, .loopbackIPv4(port: server.port)], pool: pool)
        // A 20 s attempt delay: had .v4 tried the dead IPv6 address first, it would wait 20 s.
        let v4 = Client(
            configuration: Self.configuration(
                resolver, connectTimeout: .seconds(30), happyEyeballs: HappyEyeballs(attemptDelay: .seconds(20), families: .v4)))
        let v6 = Client(
            configuration: Self.configuration(
                resolver, connectTimeout: .milliseconds(500), happyEyeballs: HappyEyeballs(attemptDelay: .seconds(20), families: .v6)))
        let url = "http://dual.test:\(server.port)/gen/1000?seed=22"
        let (v4Time, v4Count, v6Error) = try onLoop { () async throws -> (Duration, UInt64, (any Error)?) in
            let start = ContinuousClock.now
            let response = try await v4.get(url, engine: engine)
            let elapsed = ContinuousClock.now - start
            let count = try await readGenerated(response.body, seed: 22)
            return (elapsed, count, await errorThrown { _ = try await v6.get(url, engine: engine) })
        }
        print("\(engine) engine, .v4: connected after \(v4Time) with an IPv6 address first that drops packets")
        #expect(v4Count == 1000 && v4Time < .seconds(10))
        #expect(v6Error as? HTTPClientError == .timedOut(.connect, .milliseconds(500)), "\(String(describing: v6Error))")
        #expect(server.stats.connectionsAccepted == 1, ".v6 never connected to the IPv4 address")
        #expect(deadV6.pendingConnects == 0)
    }

    @Test("every address drops packets: the connect timeout holds, the lookup counted in it", arguments: HTTPEngine.allCases)
    func connectTimeoutWhenAllDrop(engine: HTTPEngine) throws {
        let deadA = try BlackHolePort()
        defer { deadA.close() }
        let deadB = try BlackHolePort(ipv6: true)
        defer { deadB.close() }
        let pool = try WorkerPool(threads: 2, name: "he-client")
        defer { pool.shutdown() }
        // A lookup that takes 600 ms of the 1 s: the race has 400 ms left, not 1 s.
        let resolver = Self.resolver("dead.test", [deadA.address, deadB.address], delay: .milliseconds(600), pool: pool)
        let client = Client(
            configuration: Self.configuration(
                resolver, connectTimeout: .seconds(1), happyEyeballs: HappyEyeballs(attemptDelay: .milliseconds(100))))
        let (error, elapsed) = try onLoop { () async -> ((any Error)?, Duration) in
            let start = ContinuousClock.now
            let error = await errorThrown { _ = try await client.get("http://dead.test:80/", engine: engine) }
            return (error, ContinuousClock.now - start)
        }
        print("\(engine) engine: every address dead, gave up after \(elapsed) (lookup 600 ms, connect timeout 1 s)")
        #expect(error as? HTTPClientError == .timedOut(.connect, .seconds(1)), "\(String(describing: error))")
        #expect(elapsed >= .seconds(1) && elapsed < .milliseconds(1500), "the lookup counts against the connect timeout")
        #expect(deadA.pendingConnects == 0 && deadB.pendingConnects == 0, "every attempt was closed")
    }
}
