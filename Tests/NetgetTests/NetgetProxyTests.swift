import HTTPClient
import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// netget's --proxy, --noproxy and the proxy environment variables (issue 15 point 7), against
/// tinyproxy from Debian. A proxy that demands Basic credentials tells whether a request went
/// through it (without them, its 407: tinyproxy answers a wrong password with a 401, which a
/// client cannot tell from an origin's); a proxy port that refuses tells whether netget tried
/// to use it.
@Suite(.enabled(if: TinyproxyServer.isInstalled, "tinyproxy is not installed (apt-get install -y tinyproxy)"))
struct NetgetProxyTests {
    /// The proxy with the credential it demands.
    static func proxyURL(_ proxy: TinyproxyServer) -> String { "http://alice:s3cret@127.0.0.1:\(proxy.port)" }

    /// The proxy without a credential: it answers 407.
    static func bareProxyURL(_ proxy: TinyproxyServer) -> String { "http://127.0.0.1:\(proxy.port)" }

    /// A proxy URL on a loopback port nothing listens on: a connection to it is refused.
    static func deadProxyURL() throws -> String { "http://127.0.0.1:\(try LocalDaemon.freePort())" }

    @Test(
        "--proxy: plain HTTP and HTTPS (a CONNECT tunnel) with -x 4 through the proxy; without the credential, its 407",
        arguments: Engine.allCases)
    func proxyOption(engine: Engine) async throws {
        try await withFixture { fixture in
            let proxy = try TinyproxyServer(basicAuth: "alice s3cret")
            defer { proxy.stop() }
            let plain = try await netget(
                engine.arguments + ["--proxy", Self.proxyURL(proxy), "-x", "4", "-o", "p.bin", fixture.url("/gen/4m?seed=61")],
                in: fixture.directory)
            #expect(plain.exitCode == 0, "stderr: \(plain.stderr)")
            expectGenerated(fixture.file("p.bin"), seed: 61, size: 4 << 20)
            #expect(fixture.server.receivedRequests.flatMap { $0.values("Range") }.count >= 2, "-x 4 went through the proxy as ranges")

            let (certificate, key) = try TestCertificate.generate(inDirectory: fixture.directory + "/tls")
            let secure = try TestHTTPServer.start(.init(tls: TLSContext.server(certificateFile: certificate, privateKeyFile: key)))
            defer { secure.stop() }
            let tunneled = try await netget(
                engine.arguments + [
                    "--proxy", Self.proxyURL(proxy), "--cacert", certificate, "-x", "4", "-o", "s.bin", "\(secure.baseURL)/gen/4m?seed=62",
                ], in: fixture.directory)
            #expect(tunneled.exitCode == 0, "stderr: \(tunneled.stderr)")
            expectGenerated(fixture.file("s.bin"), seed: 62, size: 4 << 20)

            let bare = Self.bareProxyURL(proxy)
            let before = (fixture.server.receivedRequests.count, secure.receivedRequests.count)
            for url in [fixture.url("/gen/1000?seed=63"), "\(secure.baseURL)/gen/1000?seed=63"] {
                let refused = try await netget(
                    engine.arguments + ["--proxy", bare, "--cacert", certificate, "--retries", "0", "-o", "r.bin", url],
                    in: fixture.directory)
                #expect(refused.exitCode == 22, "\(url): stderr: \(refused.stderr)")  // the proxy's 407
                #expect(refused.stderr.contains("407"), "\(url): stderr: \(refused.stderr)")
                #expect(!fileExists(fixture.file("r.bin")))
            }
            #expect((fixture.server.receivedRequests.count, secure.receivedRequests.count) == before, "the proxy let a request through")
        }
    }

    @Test("http_proxy and https_proxy are used by default, all_proxy for a scheme without its own; HTTP_PROXY is not (httpoxy)")
    func environment() async throws {
        try await withFixture { fixture in
            let proxy = try TinyproxyServer(basicAuth: "alice s3cret")
            defer { proxy.stop() }
            let good = Self.proxyURL(proxy)
            let bare = Self.bareProxyURL(proxy)
            let (certificate, key) = try TestCertificate.generate(inDirectory: fixture.directory + "/tls")
            let secure = try TestHTTPServer.start(.init(tls: TLSContext.server(certificateFile: certificate, privateKeyFile: key)))
            defer { secure.stop() }
            let plainURL = fixture.url("/gen/200000?seed=64")
            let secureURL = "\(secure.baseURL)/gen/200000?seed=65"
            func run(_ variables: [String], _ url: String) async throws -> ProcessOutput {
                try await netget(
                    ["--cacert", certificate, "--retries", "0", "-o", "e.bin", url], in: fixture.directory, environment: variables)
            }
            // Each is the proxy without its credential, refused with a 407: so the variable was read.
            for (variables, url) in [
                (["http_proxy=\(bare)"], plainURL), (["https_proxy=\(bare)"], secureURL), (["HTTPS_PROXY=\(bare)"], secureURL),
                (["all_proxy=\(bare)"], plainURL), (["ALL_PROXY=\(bare)"], secureURL),
            ] {
                let refused = try await run(variables, url)
                #expect(refused.exitCode == 22 && refused.stderr.contains("407"), "\(variables): stderr: \(refused.stderr)")
            }
            // The right one carries the download through.
            for (variables, url, seed) in [(["http_proxy=\(good)"], plainURL, 64), (["https_proxy=\(good)"], secureURL, 65)] {
                let through = try await run(variables, url)
                #expect(through.exitCode == 0, "\(variables): stderr: \(through.stderr)")
                expectGenerated(fixture.file("e.bin"), seed: UInt64(seed), size: 200_000)
            }
            // A scheme's own variable wins over all_proxy; upper-case HTTP_PROXY is ignored.
            for variables in [["http_proxy=\(good)", "all_proxy=\(bare)"], ["HTTP_PROXY=\(bare)"]] {
                let direct = try await run(variables, plainURL)
                #expect(direct.exitCode == 0, "\(variables): stderr: \(direct.stderr)")
                expectGenerated(fixture.file("e.bin"), seed: 64, size: 200_000)
            }
        }
    }

    @Test("--proxy overrides the variables but not no_proxy; --noproxy replaces no_proxy; --proxy '' and --noproxy '*' go direct")
    func overrides() async throws {
        try await withFixture { fixture in
            let proxy = try TinyproxyServer(basicAuth: "alice s3cret")
            defer { proxy.stop() }
            let dead = try Self.deadProxyURL()
            let url = fixture.url("/gen/100000?seed=66")
            func run(_ arguments: [String], _ variables: [String]) async throws -> ProcessOutput {
                try await netget(arguments + ["--retries", "0", "-o", "o.bin", url], in: fixture.directory, environment: variables)
            }
            let cases: [(arguments: [String], variables: [String], succeeds: Bool)] = [
                ([], ["http_proxy=\(dead)"], false),  // the variable is read by default
                (["--proxy", Self.proxyURL(proxy)], ["http_proxy=\(dead)"], true),
                (["--proxy", ""], ["http_proxy=\(dead)"], true),
                (["--noproxy", "*"], ["http_proxy=\(dead)"], true),
                (["--noproxy", "localhost,127.0.0.0/8"], ["http_proxy=\(dead)"], true),
                (["--noproxy", "127.0.0.1:1"], ["http_proxy=\(dead)"], false),  // another port
                (["--proxy", dead], ["no_proxy=127.0.0.1"], true),  // curl applies no_proxy to -x as well
                (["--proxy", dead, "--noproxy", ""], ["no_proxy=127.0.0.1"], false),
                (["--proxy", dead], ["NO_PROXY=*"], true),
            ]
            for (arguments, variables, succeeds) in cases {
                let result = try await run(arguments, variables)
                if succeeds {
                    #expect(result.exitCode == 0, "\(arguments) \(variables): stderr: \(result.stderr)")
                    expectGenerated(fixture.file("o.bin"), seed: 66, size: 100_000)
                } else {
                    #expect(result.exitCode == 7, "\(arguments) \(variables) must try the dead proxy: stderr: \(result.stderr)")
                    #expect(!fileExists(fixture.file("o.bin")))
                }
                _ = unlink(fixture.file("o.bin"))
            }
        }
    }

    @Test("a proxy URL that is none is a usage error naming the option or the variable")
    func badProxyURL() async throws {
        try await withFixture { fixture in
            let url = fixture.url("/gen/1000?seed=67")
            let option = try await netget(["--proxy", "ftp://127.0.0.1:21", url], in: fixture.directory)
            #expect(option.exitCode == 2 && option.stderr.contains("--proxy") && option.stderr.contains("ftp"), "stderr: \(option.stderr)")
            let variable = try await netget([url], in: fixture.directory, environment: ["http_proxy=socks4://127.0.0.1:1080"])
            #expect(variable.exitCode == 2 && variable.stderr.contains("http_proxy"), "stderr: \(variable.stderr)")
            #expect(fixture.server.receivedRequests.isEmpty)
        }
    }
}
