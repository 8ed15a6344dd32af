import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Credentials go only to the origin the user named: a redirect to another origin (here
/// another port: another origin) never carries them, on the hop or on any later request to
/// the final URL (segments, retries, -c runs), unless --location-trusted.
@Suite("netget credentials per origin")
struct NetgetCredentialTests {
    static let secrets = [
        "-H", "Authorization: Bearer T0KEN", "-H", "Cookie: s=T0KEN", "-H", "Proxy-Authorization: Basic T0KEN",
        "-H", "X-Api-Key: T0KEN",
        "--secret-header", "x-api-key", "-H", "X-Plain: visible",
    ]

    /// Runs `body` with a second server (another origin) beside the fixture's.
    func withOtherOrigin(_ body: (Fixture, TestHTTPServer) async throws -> Void) async throws {
        try await withFixture { fixture in
            let other = try TestHTTPServer.start()
            defer { other.stop() }
            try await body(fixture, other)
        }
    }

    /// Every request `server` received that carried one of the secrets.
    func leaks(at server: TestHTTPServer) -> [String] {
        server.receivedRequests.filter { request in
            request.fields.contains { $0.value.contains("T0KEN") }
        }.map(\.requestLine)
    }

    @Test(
        "302 to another origin, -x 4: no segment request there carries Authorization, Cookie or a --secret-header",
        arguments: Engine.allCases)
    func segmentsAfterCrossOriginRedirect(engine: Engine) async throws {
        try await withOtherOrigin { fixture, other in
            let target = "\(other.baseURL)/gen/8m?seed=81"
            let url = fixture.url("/redirect/302?to=\(percentEncoded(target))")
            let result = try await netget(engine.arguments + Self.secrets + ["-x", "4", "-o", "c.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("c.bin"), seed: 81, size: 8 << 20)
            let requests = other.receivedRequests
            #expect(requests.count >= 4, "expected the 4 segments at the other origin, saw \(requests.map(\.requestLine))")
            #expect(requests.contains { !$0.values("Range").isEmpty }, "no range requests reached the other origin")
            #expect(leaks(at: other).isEmpty, "credentials reached the other origin: \(leaks(at: other))")
            // Headers that carry no credentials still go (the rule drops credentials, not everything).
            #expect(requests.allSatisfy { $0.values("X-Plain") == ["visible"] })
            // The named origin got them.
            #expect(fixture.server.receivedRequests.first?.values("Authorization") == ["Bearer T0KEN"])
            #expect(fixture.server.receivedRequests.first?.values("X-Api-Key") == ["T0KEN"])
        }
    }

    @Test("-x 1 with a reset at the other origin: the retry there carries no credentials either", arguments: Engine.allCases)
    func retryAfterCrossOriginRedirect(engine: Engine) async throws {
        try await withOtherOrigin { fixture, other in
            let target = TestServerURL(other.baseURL).gen(300000).seed(82).fault(.reset(at: 100000)).once("r1").string
            let url = fixture.url("/redirect/302?to=\(percentEncoded(target))")
            let result = try await netget(
                engine.arguments + Self.secrets + ["--retry-delay", "0", "-o", "r.bin", url],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("r.bin"), seed: 82, size: 300000)
            #expect(other.receivedRequests.count >= 2, "no retry reached the other origin: \(other.receivedRequests.map(\.requestLine))")
            #expect(leaks(at: other).isEmpty, "credentials reached the other origin: \(leaks(at: other))")
        }
    }

    @Test("a -c run through the redirect: the range request at the other origin carries no credentials", arguments: Engine.allCases)
    func continueAfterCrossOriginRedirect(engine: Engine) async throws {
        try await withOtherOrigin { fixture, other in
            let target = "\(other.baseURL)/gen/50000?seed=83"
            let url = fixture.url("/redirect/302?to=\(percentEncoded(target))")
            try writeFile(fixture.file("p.bin.part"), generatedBytes(seed: 83, count: 20000))
            try writeFile(
                fixture.file("p.bin.part.meta"),
                resumeMeta(url: url, etag: "\"83-50000\"", length: 50000, missing: ["20000-49999"]))
            let result = try await netget(engine.arguments + Self.secrets + ["-c", "-o", "p.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("p.bin"), seed: 83, size: 50000)
            #expect(
                other.receivedRequests.contains { $0.values("Range") == ["bytes=20000-49999"] },
                "the resume's range request: \(other.receivedRequests.map { $0.values("Range") })")
            #expect(leaks(at: other).isEmpty, "credentials reached the other origin: \(leaks(at: other))")
        }
    }

    @Test("--location-trusted opts in: the other origin gets them", arguments: Engine.allCases)
    func locationTrusted(engine: Engine) async throws {
        try await withOtherOrigin { fixture, other in
            let url = fixture.url("/redirect/302?to=\(percentEncoded(other.baseURL + "/gen/1000?seed=84"))")
            let result = try await netget(
                engine.arguments + Self.secrets + ["--location-trusted", "-o", "t.bin", url],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(other.receivedRequests.first?.values("Authorization") == ["Bearer T0KEN"])
            #expect(other.receivedRequests.first?.values("Cookie") == ["s=T0KEN"])
        }
    }
}
