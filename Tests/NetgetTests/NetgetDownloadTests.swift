import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Downloads that should simply work: naming, framing, redirects, HTTP errors, output modes.
@Suite("netget downloads")
struct NetgetDownloadTests {
    @Test("-o writes the exact bytes, leaves no .part or .part.meta, prints nothing on stdout", arguments: Engine.allCases)
    func plainDownloadToOutput(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + ["-o", "out.bin", fixture.url("/gen/300000?seed=7")], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("out.bin"), seed: 7, size: 300_000)
            #expect(directoryEntries(fixture.directory) == ["out.bin"])
            #expect(result.stdout.isEmpty)
            #expect(result.errorLines.isEmpty)
        }
    }

    @Test("without -o the file is named after the URL's last path segment", arguments: Engine.allCases)
    func defaultNameFromURL(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + [fixture.url("/gen/100k?seed=3")], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("100k"), seed: 3, size: 102_400)
            #expect(directoryEntries(fixture.directory) == ["100k"])
        }
    }

    @Test("a chunked body of unknown length is stored whole", arguments: Engine.allCases)
    func chunked(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["-o", "c.bin", fixture.url(TestServerURL().gen(250000).seed(5).chunked(chunk: 1000))],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("c.bin"), seed: 5, size: 250_000)
        }
    }

    @Test("a chain of 3 redirects lands, and the file is named after the final URL", arguments: Engine.allCases)
    func redirectChain(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + [fixture.url("/redirect-chain/3")], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            // /redirect-chain/0 goes to /gen/1024 (seed 1).
            expectGenerated(fixture.file("1024"), seed: 1, size: 1024)
            #expect(directoryEntries(fixture.directory) == ["1024"])
        }
    }

    @Test("a redirect loop fails with exit 1 and one line naming the loop", arguments: Engine.allCases)
    func redirectLoop(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + [fixture.url("/redirect-loop")], in: fixture.directory)
            #expect(result.exitCode == 1)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("redirect loop") == true, "stderr: \(result.stderr)")
            #expect(directoryEntries(fixture.directory).isEmpty)
        }
    }

    @Test("404 fails at once: exit 22, one line with 404, no file, no retry", arguments: Engine.allCases)
    func notFound(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["--retries", "3", "--retry-delay", "0.05", fixture.url("/no/such/file")],
                in: fixture.directory)
            #expect(result.exitCode == 22)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("404") == true, "stderr: \(result.stderr)")
            #expect(directoryEntries(fixture.directory).isEmpty)
            #expect(fixture.server.stats.requestsServed == 1, "a 404 must not be retried")
        }
    }

    @Test("500 is retried, then fails: exit 22, one line with 500", arguments: Engine.allCases)
    func serverErrorRetriedThenFails(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + [
                    "--retries", "1", "--retry-delay", "0.05", "--json",
                    fixture.url(TestServerURL().gen(1000).fault(.status(code: 500))),
                ], in: fixture.directory)
            #expect(result.exitCode == 22)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("500") == true, "stderr: \(result.stderr)")
            #expect(fixture.server.stats.requestsServed == 2, "one try and one retry")
            #expect(!fileExists(fixture.file("1000")))
        }
    }

    @Test("503 once: the retry succeeds", arguments: Engine.allCases)
    func serviceUnavailableOnceThenSucceeds(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + [
                    "--retries", "2", "--retry-delay", "0.05", "--json", "-o", "s.bin",
                    fixture.url(TestServerURL().gen(5000).seed(11).fault(.status(code: 503)).once("t503")),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("s.bin"), seed: 11, size: 5000)
            let summary = jsonSummaries(result).first
            #expect(summary?["retries"]?.number == 1)
        }
    }

    @Test("-q prints nothing at all for a success", arguments: Engine.allCases)
    func quietSuccess(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["-q", "-o", "q.bin", fixture.url("/gen/200000?seed=2")], in: fixture.directory)
            #expect(result.exitCode == 0)
            #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
            #expect(result.stdout.isEmpty)
            expectGenerated(fixture.file("q.bin"), seed: 2, size: 200_000)
        }
    }

    @Test("-q still prints the one error line of a failure", arguments: Engine.allCases)
    func quietFailure(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + ["-q", fixture.url("/status/404")], in: fixture.directory)
            #expect(result.exitCode == 22)
            #expect(result.stderrLines.count == 1, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
        }
    }

    @Test("--json: one object per URL, in order, with every field right; one error line per failed URL", arguments: Engine.allCases)
    func jsonSummary(engine: Engine) async throws {
        try await withFixture { fixture in
            let size = 70_000
            let sha = try await expectedSHA256(seed: 21, size: size, in: fixture.directory)
            let good = fixture.url("/gen/\(size)?seed=21")
            let missing = fixture.url("/status/404")
            let loop = fixture.url("/redirect-loop")
            mkdir(fixture.file("out"), 0o755)
            let result = try await netget(engine.arguments + ["--json", "-q", "-d", "out", good, missing, loop], in: fixture.directory)
            #expect(result.exitCode == 22)  // the 404, the first failure in input order
            expectCleanErrors(result, count: 2)  // one per failed URL
            #expect(result.errorLines.filter { $0.contains(missing) }.count == 1)
            #expect(result.errorLines.filter { $0.contains(loop) }.count == 1)
            let summaries = jsonSummaries(result)
            try #require(summaries.count == 3, "stdout: \(result.stdout)")
            let keys = Set([
                "url", "path", "bytes", "seconds", "retries", "resumed-from", "sha256", "error", "status", "final-url", "time-dns",
                "time-connect", "time-tls", "time-first-byte", "time-total", "retry-reasons",
            ])
            for summary in summaries { #expect(Set(summary.keys) == keys) }

            let ok = summaries[0]
            #expect(ok["url"]?.string == good)
            #expect(ok["path"]?.string == "out/\(size)")
            #expect(ok["bytes"]?.number == Double(size))
            #expect((ok["seconds"]?.number ?? -1) >= 0)
            #expect(ok["retries"]?.number == 0)
            #expect(ok["resumed-from"]?.number == 0)
            #expect(ok["sha256"]?.string == sha)
            #expect(ok["error"]?.isNull == true)
            #expect(ok["status"]?.number == 200)
            #expect(ok["final-url"]?.string == good)
            #expect(summaries[1]["status"]?.number == 404)
            expectGenerated(fixture.file("out/\(size)"), seed: 21, size: UInt64(size))
            // The same numbers from the file netget left, not only from what the server sent.
            #expect(ok["bytes"]?.number == fileSize(fixture.file("out/\(size)")).map { Double($0) })
            #expect(try await ok["sha256"]?.string == sha256Hex(ofFile: fixture.file("out/\(size)")))

            let failed = summaries[1]
            #expect(failed["url"]?.string == missing)
            #expect(failed["path"]?.isNull == true)
            #expect(failed["sha256"]?.isNull == true)
            #expect(failed["error"]?.string?.contains("404") == true)
            #expect(summaries[2]["url"]?.string == loop)
            #expect(summaries[2]["error"]?.string?.contains("redirect loop") == true)
        }
    }

    @Test(
        "--json of a failed download: one line per URL, its path null or an existing file whose size is bytes", arguments: Engine.allCases)
    func jsonPathOfFailures(engine: Engine) async throws {
        try await withFixture { fixture in
            let zeros = String(repeating: "0", count: 64)
            let sha = try await expectedSHA256(seed: 22, size: 3000, in: fixture.directory)
            let mismatchURL = fixture.url("/gen/3000?seed=22")
            let mismatch = try await netget(
                engine.arguments + ["--json", "-q", "--sha256", zeros, "-o", "v.bin", mismatchURL],
                in: fixture.directory)
            #expect(mismatch.exitCode == 3)
            let mismatchLines = jsonSummaries(mismatch)
            try #require(mismatchLines.count == 1, "one JSON line for the one URL, stdout: \(mismatch.stdout)")
            let kept = mismatchLines[0]
            #expect(kept["url"]?.string == mismatchURL)
            // The data is kept in the .part file, which is what path names.
            #expect(kept["path"]?.string == "v.bin.part", "\(kept)")
            #expect(fileExists(fixture.file("v.bin.part")))
            #expect(!fileExists(fixture.file("v.bin")), "a mismatching file does not get the final name")
            #expect(kept["bytes"]?.number == fileSize(fixture.file("v.bin.part")).map { Double($0) })
            #expect(kept["bytes"]?.number == 3000)
            #expect(kept["sha256"]?.string == sha, "the digest of the bytes received, not the expected one")
            #expect(kept["error"]?.string?.contains("checksum mismatch") == true, "\(kept)")

            let shortURL = fixture.url(TestServerURL().gen(50000).seed(23).fault(.close(at: 20000)))
            let short = try await netget(
                engine.arguments + ["--json", "-q", "--retries", "0", "-o", "e.bin", shortURL], in: fixture.directory)
            #expect(short.exitCode == 7)
            let shortLines = jsonSummaries(short)
            try #require(shortLines.count == 1, "one JSON line for the one URL, stdout: \(short.stdout)")
            let failed = shortLines[0]
            #expect(failed["url"]?.string == shortURL)
            #expect(failed["error"]?.string?.isEmpty == false, "\(failed)")
            #expect(failed["sha256"]?.isNull == true, "no digest for a download that did not finish")
            #expect(!fileExists(fixture.file("e.bin")))
            if let path = failed["path"]?.string {
                #expect(path == "e.bin.part", "\(failed)")
                #expect(fileExists(fixture.file(path)), "--json says path \(path), which does not exist: \(failed)")
                #expect(
                    failed["bytes"]?.number == fileSize(fixture.file(path)).map { Double($0) }, "bytes is what the file holds: \(failed)")
            } else {
                #expect(failed["path"]?.isNull == true, "\(failed)")
                #expect(failed["bytes"]?.number == 0, "no file, so no bytes: \(failed)")
            }
        }
    }

    @Test("-x 4 fetches four ranges at once and assembles the exact file", arguments: Engine.allCases)
    func segmented(engine: Engine) async throws {
        try await withFixture { fixture in
            let size: UInt64 = 6 << 20  // segments are at least 1 MiB
            let result = try await netget(
                engine.arguments + ["-x", "4", "-o", "seg.bin", fixture.url("/gen/\(size)?seed=13")],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("seg.bin"), seed: 13, size: size)
            #expect(fixture.server.stats.connectionsAccepted >= 4, "stats: \(fixture.server.stats)")
        }
    }

    @Test("200 URLs from stdin with -j 16 -d DIR: 200 exact files named by Content-Disposition", arguments: Engine.allCases)
    func manyFromStandardInput(engine: Engine) async throws {
        try await withFixture { fixture in
            let count = 200
            var list = "# the URL list\n\n"
            for seed in 1...count { list += fixture.url(TestServerURL().gen(102400).seed(seed).name("f\(seed).bin")) + "\n" }
            mkdir(fixture.file("files"), 0o755)
            let result = try await netget(
                engine.arguments + ["-j", "16", "-i", "-", "-d", "files", "-q"], in: fixture.directory,
                input: list)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.isEmpty)
            let names = directoryEntries(fixture.file("files"))
            #expect(names == (1...count).map { "f\($0).bin" }.sorted())
            for seed in 1...count { expectGenerated(fixture.file("files/f\(seed).bin"), seed: UInt64(seed), size: 102_400) }
        }
    }
}
