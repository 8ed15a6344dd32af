import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// Requests through a real proxy, tinyproxy from Debian (issue 14 point 1): plain HTTP in
/// absolute form, HTTPS through a CONNECT tunnel with TLS to the origin, Basic proxy
/// authentication and its 407, a CONNECT the proxy cannot open, no_proxy; both engines.
@Suite(.enabled(if: TinyproxyServer.isInstalled, "tinyproxy is not installed (apt-get install -y tinyproxy)"), .serialized)
struct ProxyTests {
    static func client(_ proxy: String, noProxy: String = "", tls: TLSConfiguration = TLSConfiguration()) throws -> Client {
        Client(configuration: HTTPClientConfiguration(tls: tls, proxy: ProxySettings(proxy: try HTTPProxy(proxy), noProxy: noProxy)))
    }

    @Test("plain HTTP through the proxy, with its credential; the origin never sees it", arguments: HTTPEngine.allCases)
    func plainHTTP(engine: HTTPEngine) throws {
        let proxy = try TinyproxyServer(basicAuth: "alice s3cret")
        defer { proxy.stop() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let proxyPort = proxy.port
        let (status, count) = try onLoop {
            let response = try await Self.client("http://alice:s3cret@127.0.0.1:\(proxyPort)").get(
                "\(server.baseURL)/gen/3000000?seed=12", engine: engine)
            return (response.status, try await readGenerated(response.body, seed: 12))
        }
        #expect(status == 200 && count == 3_000_000)
        let seen = try #require(server.receivedRequests.first)
        #expect(seen.requestLine.hasPrefix("GET /gen/3000000"), "the proxy forwarded it: \(seen.requestLine)")
        #expect(seen.values("Proxy-Authorization").isEmpty, "the proxy's credential reached the origin")
    }

    @Test("a 407 is a clear error naming the proxy, with and without CONNECT", arguments: HTTPEngine.allCases)
    func proxyAuthenticationRequired(engine: HTTPEngine) throws {
        let proxy = try TinyproxyServer(basicAuth: "alice s3cret")
        defer { proxy.stop() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(proxy.port)"
        let (plain, tunnel) = try onLoop { () async -> ((any Error)?, (any Error)?) in
            let client = try? Self.client(url)
            let plain = await errorThrown { _ = try await client!.get("\(server.baseURL)/gen/10", engine: engine) }  // made just above
            let tunnel = await errorThrown { _ = try await client!.get("https://127.0.0.1:\(server.port)/gen/10", engine: engine) }
            return (plain, tunnel)
        }
        let expected = HTTPClientError.proxy(.authenticationRequired(proxy: "http://127.0.0.1:\(proxy.port)", hadCredentials: false))
        #expect(plain as? HTTPClientError == expected, "\(String(describing: plain))")
        #expect(tunnel as? HTTPClientError == expected, "\(String(describing: tunnel))")
        #expect(server.receivedRequests.isEmpty)
    }

    @Test("HTTPS through a CONNECT tunnel: TLS to the origin, verified as the origin", arguments: HTTPEngine.allCases)
    func httpsThroughConnect(engine: HTTPEngine) throws {
        let proxy = try TinyproxyServer()
        defer { proxy.stop() }
        let (server, certificate) = try startSecureTestServer()
        defer { server.stop() }
        let proxyPort = proxy.port
        let (status, count) = try onLoop {
            let client = try Self.client("http://127.0.0.1:\(proxyPort)", tls: TLSConfiguration(caFile: certificate))
            let response = try await client.get("https://localhost:\(server.port)/gen/2000000?seed=13", engine: engine)
            return (response.status, try await readGenerated(response.body, seed: 13))
        }
        #expect(status == 200 && count == 2_000_000)
        #expect(server.stats.connectionsAccepted == 1)
    }

    @Test("a CONNECT to a port that refuses is the proxy's refusal, with its status", arguments: HTTPEngine.allCases)
    func connectRefused(engine: HTTPEngine) throws {
        let proxy = try TinyproxyServer()
        defer { proxy.stop() }
        let closedPort = try LocalDaemon.freePort()
        let proxyPort = proxy.port
        let error = try onLoop { () async -> (any Error)? in
            await errorThrown {
                _ = try await Self.client("http://127.0.0.1:\(proxyPort)").get("https://127.0.0.1:\(closedPort)/", engine: engine)
            }
        }
        guard case .proxy(.refused(_, let status, _))? = error as? HTTPClientError else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(status >= 400, "tinyproxy answers an unreachable origin with an error status")
    }

    @Test("no_proxy: a matching host goes direct (the proxy here does not even listen)")
    func noProxyGoesDirect() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let deadProxy = try LocalDaemon.freePort()
        let (direct, viaProxy) = try onLoop { () async throws -> (Int, (any Error)?) in
            let client = try Self.client("http://127.0.0.1:\(deadProxy)", noProxy: "localhost, 127.0.0.0/8")
            let direct = try await client.get("\(server.baseURL)/gen/10").status
            let other = try Self.client("http://127.0.0.1:\(deadProxy)", noProxy: "example.org")
            return (direct, await errorThrown { _ = try await other.get("\(server.baseURL)/gen/10") })
        }
        #expect(direct == 200)
        #expect(viaProxy != nil, "without a no_proxy match the request went to the dead proxy")
    }
}
