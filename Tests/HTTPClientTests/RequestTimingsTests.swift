import HTTPClient
import HTTPTestServer
import NetCore
import NetTLS
import TestSupport
import Testing

/// `ResponseMetadata.timings` on both engines: measured on a fresh connection, zero set-up on
/// a reused one, the lookup only for a host name, the TLS handshake only for https.
@Suite("Request timings on both engines")
struct RequestTimingsTests {
    @Test(
        "plain http to 127.0.0.1: no lookup, a connect, no TLS; the reused connection reports zero set-up", arguments: HTTPEngine.allCases)
    func plainFreshThenReused(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = TestServerURL(server.baseURL).gen(1000).seed(5).string
        let (fresh, reused) = try onLoop {
            let client = Client()
            let first = try await client.get(url, engine: engine)
            #expect(try await readGenerated(first.body, seed: 5) == 1000)
            let second = try await client.get(url, engine: engine)
            #expect(try await readGenerated(second.body, seed: 5) == 1000)
            return (first.timings, second.timings)
        }
        #expect(!fresh.reusedConnection)
        #expect(fresh.nameLookup == .zero, "an IP literal needs no lookup")
        #expect(fresh.connect > .zero)
        #expect(fresh.tlsHandshake == nil, "plain http has no TLS")
        #expect(fresh.firstByte > .zero)
        #expect(reused.reusedConnection)
        #expect(reused.nameLookup == .zero && reused.connect == .zero)
        #expect(reused.tlsHandshake == nil)
        #expect(reused.firstByte > .zero)
        #expect(server.stats.connectionsAccepted == 1, "the second request reused the connection")
    }

    @Test("https to localhost: the name is resolved, the TLS handshake is measured; reused: zero", arguments: HTTPEngine.allCases)
    func httpsByName(engine: HTTPEngine) throws {
        let (server, certificate) = try startSecureTestServer()
        defer { server.stop() }
        let url = TestServerURL("https://localhost:\(server.port)").gen(1000).seed(6).string
        let (fresh, reused) = try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(tls: TLSConfiguration(caFile: certificate)))
            let first = try await client.get(url, engine: engine)
            #expect(try await readGenerated(first.body, seed: 6) == 1000)
            let second = try await client.get(url, engine: engine)
            #expect(try await readGenerated(second.body, seed: 6) == 1000)
            return (first.timings, second.timings)
        }
        #expect(fresh.nameLookup > .zero, "localhost goes through the resolver")
        #expect(fresh.connect > .zero)
        let handshake = try #require(fresh.tlsHandshake)
        #expect(handshake > .zero)
        #expect(reused.reusedConnection && reused.connect == .zero && reused.nameLookup == .zero)
        #expect(reused.tlsHandshake == .zero, "a reused TLS connection: zero, not nil")
    }
}
