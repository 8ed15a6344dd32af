import Testing

@testable import HTTPClient

/// Proxy URLs, curl's environment variables and `no_proxy` (issue 14 point 1).
@Suite("proxy settings")
struct ProxySettingsTests {
    @Test("proxy URLs: scheme http by default, port 1080 by default (443 for https), userinfo as the proxy's credential")
    func proxyURLs() throws {
        #expect(try HTTPProxy("proxy.example") == HTTPProxy(kind: .http, host: "proxy.example", port: 1080))
        #expect(try HTTPProxy("http://Proxy.example:3128/") == HTTPProxy(kind: .http, host: "proxy.example", port: 3128))
        #expect(try HTTPProxy("https://proxy.example") == HTTPProxy(kind: .https, host: "proxy.example", port: 443))
        #expect(try HTTPProxy("socks5h://[::1]:9050").port == 9050)
        #expect(try HTTPProxy("socks5h://[::1]:9050").host == "::1")
        let withCredential = try HTTPProxy("http://u%40x:p%3Aw@127.0.0.1:8080")
        #expect(withCredential.credential == (try HTTPCredential(user: "u@x", password: "p:w")))
        #expect(withCredential.description == "http://127.0.0.1:8080", "the password is never shown")
        #expect(throws: HTTPClientError.unsupportedScheme("socks4")) { try HTTPProxy("socks4://h:1080") }
    }

    @Test("environment: lower-case http_proxy only; https_proxy or HTTPS_PROXY; all_proxy for the rest; empty is unset")
    func environment() throws {
        let settings = try ProxySettings.fromEnvironment([
            "HTTP_PROXY": "http://injected:1", "https_proxy": "http://secure:2", "ALL_PROXY": "socks5h://all:3", "NO_PROXY": "internal",
        ])
        #expect(settings.httpProxy?.host == "all", "HTTP_PROXY (httpoxy) is ignored; all_proxy applies")
        #expect(settings.httpsProxy?.host == "secure")
        #expect(settings.proxy(for: try HTTPURL("http://internal/x")) == nil)
        #expect(settings.proxy(for: try HTTPURL("https://other/x"))?.port == 2)
        let lower = try ProxySettings.fromEnvironment(["http_proxy": "http://plain:4", "https_proxy": ""])
        #expect(lower.httpProxy?.host == "plain" && lower.httpsProxy == nil)
        #expect(throws: HTTPClientError.self) { try ProxySettings.fromEnvironment(["http_proxy": "ftp://x"]) }
    }

    @Test("no_proxy: *, names and their subdomains, leading dots, IPs, CIDRs, ports")
    func noProxy() {
        let list = NoProxyList("example.com, .corp.local 10.0.0.0/8,192.168.1.7,fd00::/8, api.test:8443,[::1]:9000")
        #expect(list.matches(host: "example.com", port: 80))
        #expect(list.matches(host: "www.example.com", port: 80))
        #expect(!list.matches(host: "notexample.com", port: 80))
        #expect(list.matches(host: "a.b.corp.local", port: 80) && list.matches(host: "corp.local", port: 80))
        #expect(list.matches(host: "10.200.3.4", port: 80) && !list.matches(host: "11.0.0.1", port: 80))
        #expect(list.matches(host: "192.168.1.7", port: 80) && !list.matches(host: "192.168.1.8", port: 80))
        #expect(list.matches(host: "fd12::1", port: 80) && !list.matches(host: "fe80::1", port: 80))
        #expect(list.matches(host: "api.test", port: 8443) && !list.matches(host: "api.test", port: 443))
        #expect(list.matches(host: "::1", port: 9000) && !list.matches(host: "::1", port: 9001))
        #expect(NoProxyList("*").matches(host: "anything", port: 1))
        #expect(!NoProxyList("").matches(host: "anything", port: 1))
        // An entry with a port that is not one is dropped, not widened to every port.
        #expect(!NoProxyList("api.test:abc").matches(host: "api.test", port: 80))
        #expect(NoProxyList("example.com.").matches(host: "www.example.com", port: 80))
        // A name entry never matches an IP literal's text by suffix.
        #expect(!NoProxyList("0.1").matches(host: "10.0.0.1", port: 80))
    }
}

/// The tunnel handshakes with no socket: HTTP CONNECT and SOCKS5.
@Suite("proxy handshake")
struct ProxyHandshakeTests {
    @Test("CONNECT: the request names the origin and carries the proxy's credential; 200 opens, 407 and 502 say why")
    func connect() throws {
        let proxy = try HTTPProxy("http://u:p@proxy:3128")
        var handshake = ProxyHandshake(proxy: proxy, destination: .name("origin.example", port: 443))
        guard case .write(let request) = handshake.start() else {
            Issue.record("no request")
            return
        }
        #expect(
            String(decoding: request, as: UTF8.self)
                == "CONNECT origin.example:443 HTTP/1.1\r\nHost: origin.example:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n")
        #expect(handshake.wrote() == .read)
        #expect(handshake.received(Array("HTTP/1.1 200 Connection established\r\n".utf8)) == .read)
        #expect(handshake.received(Array("Via: squid\r\n\r\n".utf8)) == .open)

        var denied = ProxyHandshake(proxy: try HTTPProxy("http://proxy:3128"), destination: .name("o", port: 443))
        _ = denied.start()
        #expect(
            denied.received(Array("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n".utf8))
                == .failed(.authenticationRequired(proxy: "http://proxy:3128", hadCredentials: false)))
        var bad = ProxyHandshake(proxy: try HTTPProxy("http://proxy:3128"), destination: .name("o", port: 443))
        _ = bad.start()
        #expect(
            bad.received(Array("HTTP/1.1 502 Bad Gateway\r\n\r\n".utf8))
                == .failed(.refused(proxy: "http://proxy:3128", status: 502, reason: "Bad Gateway")))
        var closed = ProxyHandshake(proxy: try HTTPProxy("http://proxy:3128"), destination: .name("o", port: 443))
        _ = closed.start()
        #expect(closed.ended() == .failed(.closedDuringHandshake(proxy: "http://proxy:3128")))
    }

    // Found by the proxy-handshake fuzz target: "HTTP/1." followed by anything was a version,
    // so a garbled status line opened the tunnel.
    @Test(
        "CONNECT: a status line that is not HTTP/1.DIGIT SP 3DIGIT is malformed, never a tunnel",
        arguments: ["HTTP/1.\u{86}\u{0}J1 200 OK", "HTTP/1.10 200 OK", "HTTP/1.x 200", "HTTP/1.1 +20 OK", "HTTP/1.1 2\u{301}00 OK"])
    func malformedStatusLine(line: String) throws {
        var handshake = ProxyHandshake(proxy: try HTTPProxy("http://proxy:3128"), destination: .name("o", port: 443))
        _ = handshake.start()
        guard case .failed(.malformedReply) = handshake.received(Array((line + "\r\n\r\n").utf8)) else {
            Issue.record("\(line.debugDescription) was not refused as malformed")
            return
        }
    }

    @Test("SOCKS5 with user/password and a remote name (socks5h)")
    func socks5WithCredentials() throws {
        var handshake = ProxyHandshake(proxy: try HTTPProxy("socks5h://al:pw@127.0.0.1:1080"), destination: .name("ab.c", port: 8080))
        #expect(handshake.start() == .write([5, 2, 0, 2]))
        #expect(handshake.wrote() == .read)
        #expect(handshake.received([5, 2]) == .write([1, 2, 0x61, 0x6C, 2, 0x70, 0x77]))
        #expect(handshake.received([1, 0]) == .write([5, 1, 0, 3, 4, 0x61, 0x62, 0x2E, 0x63, 0x1F, 0x90]))
        #expect(handshake.received([5, 0, 0, 1, 10, 0, 0]) == .read, "a reply split in two")
        #expect(handshake.received([1, 0x1F, 0x90]) == .open)
    }

    @Test("SOCKS5 refusals: credentials wanted, credentials refused, a failure code, garbage")
    func socks5Refusals() throws {
        let plain = try HTTPProxy("socks5://127.0.0.1:1080")
        var wantsCredentials = ProxyHandshake(proxy: plain, destination: .address([127, 0, 0, 1], port: 80))
        #expect(wantsCredentials.start() == .write([5, 1, 0]))
        #expect(wantsCredentials.received([5, 0xFF]) == .failed(.socksMethodRefused(proxy: plain.description, offeredCredentials: false)))

        let withUser = try HTTPProxy("socks5://a:b@127.0.0.1:1080")
        var refused = ProxyHandshake(proxy: withUser, destination: .address([127, 0, 0, 1], port: 80))
        _ = refused.start()
        _ = refused.received([5, 2])
        #expect(refused.received([1, 1]) == .failed(.socksAuthenticationFailed(proxy: withUser.description)))

        var failing = ProxyHandshake(proxy: plain, destination: .address([127, 0, 0, 1], port: 80))
        _ = failing.start()
        #expect(failing.received([5, 0]) == .write([5, 1, 0, 1, 127, 0, 0, 1, 0, 80]))
        #expect(failing.received([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]) == .failed(.socksFailure(proxy: plain.description, code: 5)))
        #expect(ProxyError.socksFailure(proxy: "p", code: 5).description.contains("connection refused"))

        var garbage = ProxyHandshake(proxy: plain, destination: .address([127, 0, 0, 1], port: 80))
        _ = garbage.start()
        guard case .failed(.malformedReply) = garbage.received(Array("HTTP/1.1 400 Bad".utf8)) else {
            Issue.record("an HTTP reply to a SOCKS greeting must be refused")
            return
        }
    }
}
