import TestSupport
import Testing

/// -v (issue 15 point 8): the heads as sent and received, on standard error, credentials hidden.
@Suite("netget -v")
struct NetgetVerboseTests {
    @Test("-v prints each hop's request and response heads in order, Authorization values hidden", arguments: Engine.allCases)
    func heads(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url("/redirect/302?to=/gen/100")
            let secret = "s3cret-Pa55"
            let result = try await netget(
                engine.arguments + ["-v", "-q", "-u", "alice:\(secret)", "-H", "Proxy-Authorization: Basic \(secret)", "-o", "v.bin", url],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("v.bin"), seed: 1, size: 100)
            let lines = result.stderrLines
            let starts = lines.filter { $0.hasPrefix("> GET ") || $0.hasPrefix("< HTTP/") }
            #expect(
                starts == [
                    "> GET /redirect/302?to=/gen/100 HTTP/1.1", "< HTTP/1.1 302 Found", "> GET /gen/100 HTTP/1.1", "< HTTP/1.1 200 OK",
                ], "stderr: \(result.stderr)")
            #expect(lines.contains("> Host: \(fixture.server.baseURL.dropFirst("http://".count))"), "stderr: \(result.stderr)")
            #expect(lines.contains("< Location: /gen/100"))
            #expect(lines.contains("< Content-Length: 100"))
            #expect(lines.filter { $0 == "> Authorization: <hidden>" }.count == 2, "stderr: \(result.stderr)")
            #expect(lines.contains("> Proxy-Authorization: <hidden>"))
            #expect(!result.stderr.contains(secret), "a credential leaked into -v: \(result.stderr)")
            // The credential was sent all the same.
            #expect(fixture.server.receivedRequests.last?.values("Authorization").first?.hasPrefix("Basic ") == true)
            #expect(lines.allSatisfy { $0.hasPrefix("> ") || $0.hasPrefix("< ") || $0 == ">" || $0 == "<" }, "stderr: \(result.stderr)")
        }
    }

    @Test("-v hides Cookie, a --secret-header and the server's Set-Cookie too", arguments: Engine.allCases)
    func cookiesAndSecretHeadersHidden(engine: Engine) async throws {
        try await withFixture { fixture in
            let secret = "t0ken-8c1e"
            let result = try await netget(
                engine.arguments + [
                    "-v", "-q", "-H", "Cookie: session=\(secret)", "-H", "X-Api-Key: \(secret)", "--secret-header", "X-Api-Key",
                    "-H", "X-Plain: visible", "-o", "c.bin", fixture.url(TestServerURL().gen(100).cookie("sid=from-server")),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let lines = result.stderrLines
            #expect(lines.contains("> Cookie: <hidden>"), "stderr: \(result.stderr)")
            #expect(lines.contains("> X-Api-Key: <hidden>"), "stderr: \(result.stderr)")
            #expect(lines.contains("> X-Plain: visible"), "stderr: \(result.stderr)")
            #expect(lines.contains("< Set-Cookie: <hidden>"), "stderr: \(result.stderr)")
            #expect(!lines.contains { $0.hasPrefix("< ") && $0.contains("from-server") }, "stderr: \(result.stderr)")
            #expect(!result.stderr.contains(secret), "a credential leaked into -v: \(result.stderr)")
            #expect(fixture.server.receivedRequests.last?.values("X-Api-Key") == [secret], "it was sent all the same")
        }
    }

    @Test("without -v no head is printed", arguments: Engine.allCases)
    func quietByDefault(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + ["-o", "n.bin", fixture.url(TestServerURL().gen(100))], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(!result.stderrLines.contains { $0.hasPrefix("> ") || $0.hasPrefix("< ") }, "stderr: \(result.stderr)")
        }
    }
}
