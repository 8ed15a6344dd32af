import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// Requests through a real SOCKS5 server, microsocks from Debian (issue 14 point 1): names
/// resolved by the proxy (socks5h) or here (socks5), RFC 1929 credentials and their refusals,
/// HTTPS inside the tunnel; both engines.
@Suite(.enabled(if: MicrosocksServer.isInstalled, "microsocks is not installed (apt-get install -y microsocks)"), .serialized)
struct SocksProxyTests {
    static func client(_ proxy: String, tls: TLSConfiguration = TLSConfiguration()) throws -> Client {
        Client(configuration: HTTPClientConfiguration(tls: tls, proxy: ProxySettings(proxy: try HTTPProxy(proxy))))
    }

    @Test("socks5h and socks5 carry plain HTTP to a name", arguments: ["socks5h", "socks5"], HTTPEngine.allCases)
    func plain(scheme: String, engine: HTTPEngine) throws {
        let socks = try MicrosocksServer()
        defer { socks.stop() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let proxy = "\(scheme)://127.0.0.1:\(socks.port)"
        let url = "http://localhost:\(server.port)/gen/2000000?seed=14"
        let (status, count) = try onLoop {
            let response = try await Self.client(proxy).get(url, engine: engine)
            return (response.status, try await readGenerated(response.body, seed: 14))
        }
        #expect(status == 200 && count == 2_000_000)
        #expect(server.receivedRequests.first?.requestLine.hasPrefix("GET /gen/2000000") == true, "origin form inside the tunnel")
    }

    @Test("RFC 1929: no credentials, wrong ones, right ones", arguments: HTTPEngine.allCases)
    func credentials(engine: HTTPEngine) throws {
        let socks = try MicrosocksServer(credential: ("alice", "s3cret"))
        defer { socks.stop() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let port = socks.port
        let url = "\(server.baseURL)/gen/1000?seed=15"
        let (none, wrong, status) = try onLoop { () async throws -> ((any Error)?, (any Error)?, Int) in
            let none = await errorThrown { _ = try await Self.client("socks5h://127.0.0.1:\(port)").get(url, engine: engine) }
            let wrong = await errorThrown { _ = try await Self.client("socks5h://alice:nope@127.0.0.1:\(port)").get(url, engine: engine) }
            let right = try await Self.client("socks5h://alice:s3cret@127.0.0.1:\(port)").get(url, engine: engine)
            _ = try await right.body.collect()
            return (none, wrong, right.status)
        }
        let name = "socks5h://127.0.0.1:\(port)"
        let refusedMethod = HTTPClientError.proxy(.socksMethodRefused(proxy: name, offeredCredentials: false))
        #expect(none as? HTTPClientError == refusedMethod, "\(String(describing: none))")
        #expect(wrong as? HTTPClientError == .proxy(.socksAuthenticationFailed(proxy: name)), "\(String(describing: wrong))")
        #expect(status == 200)
    }

    @Test("HTTPS inside the SOCKS5 tunnel: TLS to the origin, verified as the origin", arguments: HTTPEngine.allCases)
    func https(engine: HTTPEngine) throws {
        let socks = try MicrosocksServer()
        defer { socks.stop() }
        let (server, certificate) = try startSecureTestServer()
        defer { server.stop() }
        let proxy = "socks5h://127.0.0.1:\(socks.port)"
        let (status, count) = try onLoop {
            let client = try Self.client(proxy, tls: TLSConfiguration(caFile: certificate))
            let response = try await client.get("https://localhost:\(server.port)/gen/1000000?seed=16", engine: engine)
            return (response.status, try await readGenerated(response.body, seed: 16))
        }
        #expect(status == 200 && count == 1_000_000)
    }
}
