import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `http+unix://` URLs (AsyncHTTPClient's spelling) and requests over them to the test server
/// listening on a Unix socket, both engines.
@Suite("http+unix on both engines")
struct UnixSocketClientTests {
    @Test func unixURLsDecodeTheSocketPathAndPrintItEncoded() throws {
        let url = try HTTPURL("http+unix://%2Ftmp%2Fapp%20x.sock/v1/status?full=1#frag")
        #expect(url.scheme == "http+unix")
        #expect(url.unixSocketPath == "/tmp/app x.sock")
        #expect(url.host == "localhost")
        #expect(url.authority == "localhost", "the Host header")
        #expect(url.target == "/v1/status?full=1")
        #expect(url.description == "http+unix://%2Ftmp%2Fapp%20x.sock/v1/status?full=1")
        #expect(try HTTPURL(url.description) == url)
        let secure = try HTTPURL("HTTPS+UNIX://%2Frun%2Fs.sock")
        #expect(secure.usesTLS && secure.target == "/" && secure.port == 443)
        // Relative redirects stay on the socket; a TCP URL is another origin.
        let next = try url.resolving("../other")
        #expect(next.unixSocketPath == "/tmp/app x.sock" && next.target == "/other")
        #expect(HTTPOrigin(url) != HTTPOrigin(try HTTPURL("http://localhost/")))
        #expect(HTTPOrigin(url) != HTTPOrigin(try HTTPURL("http+unix://%2Ftmp%2Fb.sock/")))
        // A server on the network cannot send the client to a local socket.
        #expect(throws: HTTPClientError.unsupportedScheme("http+unix")) {
            _ = try HTTPURL("http://example.com/").resolving("http+unix://%2Frun%2Fdocker.sock/")
        }
    }

    @Test func badSocketPathsAreInvalidURLs() {
        let longest = "/" + String(repeating: "p", count: 106)
        #expect((try? HTTPURL("http+unix://\(percentEncoded(longest))/"))?.unixSocketPath == longest)
        for (text, reason) in [
            ("http+unix://\(percentEncoded(longest + "p"))/", "the socket path has 108 bytes; a Unix socket path holds at most 107"),
            ("http+unix:///x", "no socket path"), ("http+unix://%2Fa%00b/", "a NUL byte in the socket path"),
            ("http+unix://%zz/", "a bad %-escape in the socket path"),
        ] {
            do {
                _ = try HTTPURL(text)
                Issue.record("\(text) was accepted")
            } catch let HTTPClientError.invalidURL(_, reason: given) {
                #expect(given.hasPrefix(reason), "\(given)")
            } catch { Issue.record("\(error)") }
        }
    }

    @Test(arguments: HTTPEngine.allCases)
    func requestsOverATestServerUnixSocketCarryBodiesAndReuseTheConnection(engine: HTTPEngine) throws {
        let directory = try LocalDaemon.makeDirectory("unix-client-tests")
        defer { rmdir(directory) }
        let path = directory + "/server.sock"
        let server = try TestHTTPServer.start(.init(unixSocketPath: path))
        defer { server.stop() }
        let base = "http+unix://\(percentEncoded(path))"
        try onLoop {
            let client = Client()
            for seed in 1...3 {
                let response = try await client.get(TestServerURL(base).gen(300_000).seed(UInt64(seed)).string, engine: engine)
                #expect(response.status == 200)
                #expect(try await readGenerated(response.body, seed: UInt64(seed)) == 300_000)
            }
            // Redirects relative to the socket stay on it.
            let redirected = try await client.get("\(base)/redirect/302?to=%2Fecho", engine: engine)
            #expect(redirected.status == 200)
            #expect(redirected.url.description == "\(base)/echo")
            _ = try await redirected.body.collect()
        }
        #expect(server.stats.connectionsAccepted == 1, "one kept-alive connection for every request")
        let hosts = server.receivedRequests.map { $0.values("Host") }
        #expect(hosts.count == 5 && hosts.allSatisfy { $0 == ["localhost"] })
    }
}
