import NetCore
import NetTLS
import Testing
import Workers

@testable import HTTPClient

/// The connect plan both engines follow, with no socket: which steps run in which order for
/// each kind of route, and that the timings of skipped steps stay empty.
@Suite("ConnectSteps: the steps to a connection, for both engines")
struct ConnectStepsTests {
    /// The steps of `url` through `proxy`, as text; `found` is what a `.lookUp` returns.
    private func steps(_ url: String, proxy: String? = nil, found: [SocketAddress] = []) throws -> (
        first: String, steps: [String], timings: RequestTimings
    ) {
        let settings = try proxy.map { ProxySettings(proxy: try HTTPProxy($0)) }
        let route = ConnectRoute(to: try HTTPURL(url), settings: settings)
        let context = route.origin.usesTLS || route.tlsToProxy ? try TLSContext.client(TLSConfiguration()) : nil
        var plan = ConnectSteps(route, context: context, limit: .seconds(5), happyEyeballs: HappyEyeballs())
        let first: String
        switch try plan.firstHop() {
        case .unixSocket: first = "unix"
        case .address(let address): first = "address \(address.host):\(address.port)"
        case .name(let host, let port): first = "name \(host):\(port)"
        }
        plan.connected(resolvedAt: nil)
        var names: [String] = []
        while let step = plan.next() {
            switch step {
            case .tls(_, let serverName): names.append("tls \(serverName)")
            case .lookUp(let host, let port):
                names.append("lookUp \(host):\(port)")
                plan.lookedUp(found)
            case .tunnel(let handshake):
                switch handshake.destination {
                case .name(let host, let port): names.append("tunnel to name \(host):\(port)")
                case .address(let bytes, let port): names.append("tunnel to address \(bytes):\(port)")
                }
            }
        }
        if plan.next() != nil { Issue.record("a finished plan must stay finished") }
        return (first, names, plan.timings)
    }

    @Test func aDirectPlainOriginIsOneTCPConnectAndNoTLSTime() throws {
        let plan = try steps("http://127.0.0.1:8080/a")
        #expect(plan.first == "address 127.0.0.1:8080")
        #expect(plan.steps.isEmpty)
        #expect(plan.timings.tlsHandshake == nil)
    }

    @Test func aNamedHTTPSOriginIsConnectedByNameThenTLSToIt() throws {
        let plan = try steps("https://example.test/a")
        #expect(plan.first == "name example.test:443")
        #expect(plan.steps == ["tls example.test"])
        #expect(plan.timings.tlsHandshake != nil)
    }

    @Test func plainHTTPThroughAnHTTPProxyIsForwardedWithNoTunnel() throws {
        let plan = try steps("http://example.test/a", proxy: "http://127.0.0.1:3128")
        #expect(plan.first == "address 127.0.0.1:3128")
        #expect(plan.steps.isEmpty)
    }

    @Test func httpsThroughAnHTTPSProxyIsTLSToTheProxyThenCONNECTThenTLSToTheOrigin() throws {
        let plan = try steps("https://example.test:8443/a", proxy: "https://proxy.test:3129")
        #expect(plan.first == "name proxy.test:3129")
        #expect(plan.steps == ["tls proxy.test", "tunnel to name example.test:8443", "tls example.test"])
    }

    @Test func socks5LooksTheOriginUpHereAndGivesTheProxyItsAddress() throws {
        let found = [try SocketAddress(ip: "::1", port: 80), try SocketAddress(ip: "10.1.2.3", port: 80)]
        let plan = try steps("http://example.test/a", proxy: "socks5://127.0.0.1:1080", found: found)
        #expect(plan.steps.first == "lookUp example.test:80")
        #expect(plan.steps.count == 2)
        #expect(plan.steps.last?.hasPrefix("tunnel to address") == true)
        #expect(plan.timings.tlsHandshake == nil)
    }

    @Test func socks5hGivesTheProxyTheNameAndAnIPLiteralGoesAsAnAddress() throws {
        #expect(try steps("http://example.test/a", proxy: "socks5h://127.0.0.1:1080").steps == ["tunnel to name example.test:80"])
        #expect(try steps("http://10.0.0.9/a", proxy: "socks5://127.0.0.1:1080").steps == ["tunnel to address [10, 0, 0, 9]:80"])
    }

    @Test func aUnixSocketOriginConnectsToThePath() throws {
        let plan = try steps("http+unix://%2Ftmp%2Fs.sock/a")
        #expect(plan.first == "unix")
        #expect(plan.steps.isEmpty)
    }
}
