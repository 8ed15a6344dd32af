import TestSupport
import Testing

/// What --json tells beyond bytes (issue 15 point 8, its --json part): the final status and URL,
/// timings, and each retry's reason.
@Suite("netget --json status, final URL, timings, retry reasons")
struct NetgetObservabilityTests {
    @Test(
        "after a redirect and a retried 503: status 200, the redirect's target, the 503 as the retry's reason", arguments: Engine.allCases)
    func redirectAndRetry(engine: Engine) async throws {
        try await withFixture { fixture in
            let target = fixture.url(TestServerURL().gen(3000).seed(41).fault(.status(code: 503)).once("obs-\(engine)"))
            let url = fixture.url("/redirect/302?to=\(percentEncoded(target))")
            let result = try await netget(
                engine.arguments + ["--json", "-q", "--retry-delay", "0.05", "-o", "r.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let summary = try #require(jsonSummaries(result).first, "stdout: \(result.stdout)")
            #expect(summary["status"]?.number == 200)
            #expect(summary["final-url"]?.string == target, "\(summary)")
            #expect(summary["retries"]?.number == 1)
            #expect(summary["retry-reasons"]?.string?.contains("503") == true, "\(summary)")
            let firstByte = try #require(summary["time-first-byte"]?.number)
            let total = try #require(summary["time-total"]?.number)
            #expect(firstByte >= 0 && firstByte <= total, "\(summary)")
            // The first response (the 503, after the redirect) came on the redirect's kept-alive
            // connection: zero set-up, as curl reports a reused one; no TLS on plain http (null).
            #expect(summary["time-dns"]?.number == 0, "\(summary)")
            #expect(summary["time-connect"]?.number == 0, "\(summary)")
            #expect(summary["time-tls"]?.isNull == true, "\(summary)")
            expectGenerated(fixture.file("r.bin"), seed: 41, size: 3000)
        }
    }

    @Test("a failed download's summary has its error status and no first byte without a response", arguments: Engine.allCases)
    func failures(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["--json", "-q", "--retries", "0", fixture.url("/status/410"), "http://127.0.0.1:9/x"],
                in: fixture.directory)
            #expect(result.exitCode == 22, "stderr: \(result.stderr)")
            let summaries = jsonSummaries(result)
            try #require(summaries.count == 2, "stdout: \(result.stdout)")
            #expect(summaries[0]["status"]?.number == 410)
            #expect(summaries[0]["retry-reasons"]?.isNull == true)
            #expect(summaries[1]["status"]?.isNull == true)
            #expect(summaries[1]["final-url"]?.isNull == true)
            #expect(summaries[1]["time-first-byte"]?.isNull == true)
        }
    }
}
