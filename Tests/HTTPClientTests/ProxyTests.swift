import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// Requests through a real proxy, tinyproxy from Debian (issue 14 point 1): plain HTTP in
/// absolute form, HTTPS through a CONNECT tunnel with TLS to the origin, Basic proxy
/// authentication and its 407, a CONNECT the proxy cannot open, a 403 (a forbidden CONNECT
/// port, a filtered host), a 502 (an unreachable upstream), an `https://` proxy (haproxy's TLS
/// in front of tinyproxy), no_proxy; both engines.
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

    @Test("a 403 from the proxy: a CONNECT to a port it forbids is refused, a filtered host gets the 403", arguments: HTTPEngine.allCases)
    func forbidden(engine: HTTPEngine) throws {
        let proxy = try TinyproxyServer(settings: ["ConnectPort 443"], filter: ["blocked.test"])
        defer { proxy.stop() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(proxy.port)"
        let (tunnel, plain) = try onLoop { () async throws -> ((any Error)?, Int) in
            let client = try Self.client(url)
            let tunnel = await errorThrown { _ = try await client.get("https://127.0.0.1:\(server.port)/gen/10", engine: engine) }
            return (tunnel, try await client.get("http://blocked.test:\(server.port)/gen/10", engine: engine).status)
        }
        guard case .proxy(.refused(url, 403, _))? = tunnel as? HTTPClientError else {
            Issue.record("a CONNECT to a forbidden port: \(String(describing: tunnel))")
            return
        }
        #expect(plain == 403, "the proxy's answer for a filtered host is the response")
        #expect(server.receivedRequests.isEmpty)
        #expect(proxy.log.contains("Refused CONNECT method on port \(server.port)"), "tinyproxy refused it, nobody else")
    }

    @Test(
        "a 502 from the proxy whose upstream is unreachable: the answer to a plain request, a refused CONNECT",
        arguments: HTTPEngine.allCases)
    func badGateway(engine: HTTPEngine) throws {
        let deadUpstream = try LocalDaemon.freePort()
        let proxy = try TinyproxyServer(settings: ["Upstream http 127.0.0.1:\(deadUpstream)"])
        defer { proxy.stop() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(proxy.port)"
        let (plain, tunnel) = try onLoop { () async throws -> (Int, (any Error)?) in
            let client = try Self.client(url)
            let plain = try await client.get("\(server.baseURL)/gen/10", engine: engine).status
            return (plain, await errorThrown { _ = try await client.get("https://127.0.0.1:\(server.port)/gen/10", engine: engine) })
        }
        #expect(plain == 502)
        guard case .proxy(.refused(url, 502, _))? = tunnel as? HTTPClientError else {
            Issue.record("a CONNECT through a proxy with a dead upstream: \(String(describing: tunnel))")
            return
        }
        #expect(server.receivedRequests.isEmpty)
    }

    @Test(
        "an https:// proxy (haproxy's TLS in front of tinyproxy): TLS to the proxy, verified as the proxy, then TLS to the origin inside",
        .enabled(if: HaproxyTLSFront.isInstalled, "haproxy is not installed (apt-get install -y haproxy)"), arguments: HTTPEngine.allCases)
    func httpsProxy(engine: HTTPEngine) throws {
        let tinyproxy = try TinyproxyServer()
        defer { tinyproxy.stop() }
        let front = try HaproxyTLSFront(forwardingTo: tinyproxy.port)
        defer { front.stop() }
        let (server, originCertificate) = try startSecureTestServer()
        defer { server.stop() }
        // One CA file with both: the proxy's certificate and the origin's are different ones.
        let both = "\(originCertificate).and-proxy.pem"
        try LocalDaemon.write(
            Array(((LocalDaemon.read(originCertificate) ?? "") + (LocalDaemon.read(front.certificateFile) ?? "")).utf8), to: both)
        let proxyURL = "https://127.0.0.1:\(front.port)"
        let (proxyCertificate, frontPort) = (front.certificateFile, front.port)
        let url = "https://localhost:\(server.port)/gen/2000000?seed=14"
        let (status, count, originOnly, proxyOnly, plainHTTP) = try onLoop {
            () async throws -> (Int, UInt64, (any Error)?, (any Error)?, (any Error)?) in
            let response = try await Self.client(proxyURL, tls: TLSConfiguration(caFile: both)).get(url, engine: engine)
            let count = try await readGenerated(response.body, seed: 14)
            // Trusting the origin's certificate alone fails at the proxy: its TLS is checked as the proxy's.
            let origin = try Self.client(proxyURL, tls: TLSConfiguration(caFile: originCertificate, useSystemCAStore: false))
            let proxy = try Self.client(proxyURL, tls: TLSConfiguration(caFile: proxyCertificate, useSystemCAStore: false))
            let plain = try Self.client("http://127.0.0.1:\(frontPort)", tls: TLSConfiguration(caFile: both))
            return (
                response.status, count, await errorThrown { _ = try await origin.get(url, engine: engine) },
                await errorThrown { _ = try await proxy.get(url, engine: engine) },
                await errorThrown { _ = try await plain.get(url, engine: engine) }
            )
        }
        #expect(status == 200 && count == 2_000_000)
        #expect(tinyproxy.log.contains("CONNECT localhost:\(server.port)"), "the tunnel went through the proxy")
        guard case .tls? = originOnly as? HTTPClientError, case .tls? = proxyOnly as? HTTPClientError else {
            Issue.record("an untrusted proxy: \(String(describing: originOnly)); an untrusted origin: \(String(describing: proxyOnly))")
            return
        }
        #expect(plainHTTP != nil, "the proxy's port speaks TLS only")
        // The download and the origin refused inside the tunnel; the others never got that far.
        #expect(server.stats.connectionsAccepted == 2)
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
