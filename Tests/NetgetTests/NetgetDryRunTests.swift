import TestSupport
import Testing

/// --dry-run and --spider (issue 15 point 8): the server is asked, nothing is written.
@Suite("netget --dry-run")
struct NetgetDryRunTests {
    @Test("name, size, type and resumability of each URL, in input order, and no file", arguments: Engine.allCases)
    func probes(engine: Engine) async throws {
        try await withFixture { fixture in
            let plain = fixture.url(TestServerURL().gen(5000).seed(1))
            let named = fixture.url(TestServerURL().gen(777).name("named.txt"))
            let noRange = fixture.url(TestServerURL().gen(100).noRange())
            let result = try await netget(engine.arguments + ["--dry-run", plain, named, noRange], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(
                result.stdoutLines == [
                    "5000\t5000\tapplication/octet-stream\tresumable\t\(plain)",
                    "named.txt\t777\tapplication/octet-stream\tresumable\t\(named)",
                    "100\t100\tapplication/octet-stream\tnot-resumable\t\(noRange)",
                ], "stdout: \(result.stdout)")
            #expect(directoryEntries(fixture.directory).isEmpty)
            // HEAD only: no body was sent.
            #expect(fixture.server.receivedRequests.allSatisfy { $0.requestLine.hasPrefix("HEAD ") })
        }
    }

    @Test("HEAD refused: a one-byte range instead; --spider is the same; --json gives an object", arguments: Engine.allCases)
    func headRefused(engine: Engine) async throws {
        try await withFixture { fixture in
            let target = fixture.url(TestServerURL().gen(4321).noHead())
            let url = fixture.url("/redirect/302?to=\(percentEncoded(target))")
            let result = try await netget(engine.arguments + ["--spider", "--json", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let summary = try #require(jsonSummaries(result).first, "stdout: \(result.stdout)")
            #expect(summary["name"]?.string == "4321")
            #expect(summary["size"]?.number == 4321)
            #expect(summary["resumable"] == .bool(true))
            #expect(summary["status"]?.number == 206)
            #expect(summary["final-url"]?.string == target)
            // The redirect is asked again with GET; the file itself once, for one byte.
            let ranged = fixture.server.receivedRequests.filter { $0.requestLine.hasPrefix("GET /gen/") }
            #expect(ranged.count == 1 && ranged.first?.values("Range") == ["bytes=0-0"], "\(ranged.map(\.requestLine))")
            #expect(directoryEntries(fixture.directory).isEmpty)
        }
    }

    @Test("a failing URL: its exit status and one error line, the others still printed", arguments: Engine.allCases)
    func failure(engine: Engine) async throws {
        try await withFixture { fixture in
            let good = fixture.url(TestServerURL().gen(10))
            let result = try await netget(
                engine.arguments + ["--dry-run", "--retries", "0", fixture.url("/status/404"), good], in: fixture.directory)
            #expect(result.exitCode == 22, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(result.stdoutLines.count == 1 && result.stdoutLines.first?.hasPrefix("10\t10\t") == true, "stdout: \(result.stdout)")
        }
    }
}
