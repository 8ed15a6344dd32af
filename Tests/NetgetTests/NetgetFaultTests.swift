import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Faults the test server injects mid-response: netget must retry and resume the transient
/// ones into an exact file, and fail the permanent ones with one clear line.
@Suite("netget under faults")
struct NetgetFaultTests {
    /// Fast retries, so that a failing case ends in well under a second.
    static let quickRetries = ["--retries", "2", "--retry-delay", "0.05"]

    @Test("a reset mid-body is retried and resumed into the exact file", arguments: Engine.allCases)
    func resetThenResume(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + Self.quickRetries + [
                    "--json", "-o", "r.bin",
                    fixture.url(TestServerURL().gen(400000).seed(31).fault(.reset(at: 150000)).once("r1")),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("r.bin"), seed: 31, size: 400_000)
            let summary = jsonSummaries(result).first
            #expect((summary?["retries"]?.number ?? 0) >= 1, "stdout: \(result.stdout)")
            #expect(!fileExists(fixture.file("r.bin.part")) && !fileExists(fixture.file("r.bin.part.meta")))
        }
    }

    @Test("an early clean close (body short of Content-Length) is retried and resumed", arguments: Engine.allCases)
    func earlyCloseThenResume(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + Self.quickRetries + [
                    "--json", "-o", "c.bin",
                    fixture.url(TestServerURL().gen(400000).seed(32).fault(.close(at: 99999)).once("c1")),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("c.bin"), seed: 32, size: 400_000)
            #expect((jsonSummaries(result).first?["retries"]?.number ?? 0) >= 1, "stdout: \(result.stdout)")
        }
    }

    @Test("an early close on every try fails: exit 7, one line, the partial data kept in PATH.part", arguments: Engine.allCases)
    func earlyCloseEveryTime(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + [
                    "--retries", "1", "--retry-delay", "0.05", "-o", "e.bin",
                    fixture.url(TestServerURL().gen(50000).seed(33).fault(.close(at: 20000))),
                ],
                in: fixture.directory)
            // The first response stops at 20000, the retry (Range 20000-) stops 20000 later: 40000 of 50000.
            #expect(result.exitCode == 7)
            expectCleanErrors(result, count: 1)
            #expect(!fileExists(fixture.file("e.bin")))
            #expect(fileSize(fixture.file("e.bin.part")) == 40000)
            #expect(fileExists(fixture.file("e.bin.part.meta")))
            if let bytes = try? readFile(fixture.file("e.bin.part")) {
                #expect(bytes.withUnsafeBytes { GeneratedContent.firstMismatch(in: $0, seed: 33, offset: 0) } == nil)
            }
        }
    }

    @Test("a stall longer than --timeout on every try fails with exit 28 and one line", arguments: Engine.allCases)
    func stallAlwaysFails(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + [
                    "--timeout", "0.5", "--retries", "1", "--retry-delay", "0.05", "--json", "-o", "s.bin",
                    fixture.url(TestServerURL().gen(100000).seed(34).fault(.stall(at: 1000, ms: 3000))),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 28)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("no data for") == true, "stderr: \(result.stderr)")
            #expect(!fileExists(fixture.file("s.bin")))
            // Two tries of 0.5 s each, not the 3 s stall.
            #expect(result.elapsed < .milliseconds(2800), "took \(result.elapsed); \(result.stdout) \(result.stderr)")
        }
    }

    @Test("a stall longer than --timeout once: the retry resumes and succeeds", arguments: Engine.allCases)
    func stallOnceSucceeds(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + [
                    "--timeout", "0.5", "--retries", "2", "--retry-delay", "0.05", "--json",
                    "-o", "s.bin",
                    fixture.url(TestServerURL().gen(100000).seed(35).fault(.stall(at: 1000, ms: 3000)).once("s1")),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("s.bin"), seed: 35, size: 100_000)
            #expect((jsonSummaries(result).first?["retries"]?.number ?? 0) >= 1)
        }
    }

    @Test("a slow drip that never pauses for --timeout succeeds, though it takes longer than the timeout", arguments: Engine.allCases)
    func slowDripWithinTimeout(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + [
                    "--timeout", "0.5", "--retries", "0", "--json", "-o", "d.bin",
                    fixture.url(TestServerURL().gen(60000).seed(36).fault(.drip(rate: 60000))),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("d.bin"), seed: 36, size: 60000)
            let summary = jsonSummaries(result).first
            #expect(summary?["retries"]?.number == 0)
            #expect((summary?["seconds"]?.number ?? 0) >= 0.6, "the drip takes about a second")
        }
    }

    /// A malformed response kind and a phrase the one error line must contain.
    struct Malformed: Sendable, CustomTestStringConvertible {
        let kind: String
        let phrase: String
        /// 1 for bytes that break HTTP; 7 for a head cut short (the connection ended early).
        var status: Int32 = 1
        var testDescription: String { kind }
    }

    static let malformedCases: [Malformed] = [
        Malformed(kind: "badStatusLine", phrase: "status line"),
        Malformed(kind: "badHeader", phrase: "malformed header line"),
        Malformed(kind: "obsFold", phrase: "folding"),
        Malformed(kind: "badContentLength", phrase: "invalid Content-Length"),
        Malformed(kind: "conflictingContentLength", phrase: "conflicting Content-Length"),
        Malformed(kind: "badChunkSize", phrase: "chunk size"),
        Malformed(kind: "hugeHeader", phrase: "header section is larger"),
        Malformed(kind: "garbage", phrase: "bad response"),
        Malformed(kind: "truncatedHead", phrase: "ended early", status: 7),
    ]

    @Test(
        "a malformed response fails with exit 1 (7 if cut short) and one line naming the problem",
        arguments: Engine.allCases, malformedCases)
    func malformedHead(engine: Engine, malformed: Malformed) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + [
                    "--retries", "1", "--retry-delay", "0.05", "-o", "m.bin",
                    fixture.url(TestServerURL().gen(1000).fault(.malformed(kind: "\(malformed.kind)"))),
                ],
                in: fixture.directory)
            #expect(result.exitCode == malformed.status)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("bad response") == true, "stderr: \(result.stderr)")
            #expect(result.errorLines.first?.contains(malformed.phrase) == true, "stderr: \(result.stderr)")
            #expect(!fileExists(fixture.file("m.bin")))
        }
    }
}
