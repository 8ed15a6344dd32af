import HTTPClient
import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A small tmpfs of its own for a test (needs root: CI runs as root), unmounted afterwards.
struct SmallDisk {
    let path: String

    static var canMount: Bool { getuid() == 0 }

    init(megabytes: Int) async throws {
        path = try makeTemporaryDirectory()
        let result = try await runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path], in: "/")
        guard result.exitCode == 0 else { throw TestFailure("mount tmpfs: \(result.stderr)") }
    }

    func resize(megabytes: Int) async throws {
        let result = try await runTool("/bin/mount", ["-o", "remount,size=\(megabytes)m", path], in: "/")
        guard result.exitCode == 0 else { throw TestFailure("remount tmpfs: \(result.stderr)") }
    }

    func remove() async {
        _ = try? await runTool("/bin/umount", [path], in: "/")
        rmdir(path)
    }
}

@Suite("netget disk and options")
struct NetgetDiskAndOptionTests {
    @Test(
        "a full disk mid-download: exit 23, one 'disk full' line with what is missing, no PATH; after freeing space -c completes byte-exact",
        .enabled(if: SmallDisk.canMount, "needs root to mount a tmpfs"),
        arguments: Engine.allCases, [1, 4])
    func diskFullThenContinue(engine: Engine, connections: Int) async throws {
        try await withFixture { fixture in
            let disk = try await SmallDisk(megabytes: 3)
            do {
                let size = 6 << 20
                let target = disk.path + "/full.bin"
                let url = fixture.url("/gen/\(size)?seed=101")
                let first = try await netget(engine.arguments + ["-x", String(connections), "-o", target, url], in: fixture.directory)
                #expect(first.exitCode == 23, "stderr: \(first.stderr)")
                expectCleanErrors(first, count: 1)
                let line = first.errorLines.first ?? ""
                #expect(
                    line.contains("disk full") && line.contains("full.bin.part") && line.contains("bytes still missing"),
                    "stderr: \(first.stderr)")
                #expect(!fileExists(target))
                #expect(fileExists(target + ".part") && fileExists(target + ".part.meta"))

                try await disk.resize(megabytes: 16)
                let resumed = try await netget(
                    engine.arguments + ["-c", "-x", String(connections), "-o", target, url], in: fixture.directory)
                #expect(resumed.exitCode == 0, "stderr: \(resumed.stderr)")
                expectGenerated(target, seed: 101, size: UInt64(size))
                #expect(directoryEntries(disk.path) == ["full.bin"])
            } catch {
                await disk.remove()
                throw error
            }
            await disk.remove()
        }
    }

    @Test(
        "numeric options out of range, NaN or infinite: exit 2 with one line, never a trap",
        arguments: [
            ["--limit-rate", "1e19"], ["--limit-rate", "nanK"], ["--limit-rate", "0"], ["--timeout", "inf"], ["--timeout", "1e300"],
            ["--timeout", "nan"], ["--timeout", "-1"], ["--connect-timeout", "1e300"], ["--connect-timeout", "0"],
            ["--retry-delay", "-0.5"], ["--retry-delay", "inf"], ["--retries", "-1"], ["--retries", "99999999999999999999"],
            ["-x", "0"], ["-x", "65"], ["-j", "0"], ["--max-redirects", "-2"],
        ])
    func numericOptionsRangeChecked(option: [String]) async throws {
        try await withFixture { fixture in
            let result = try await netget(option + ["-o", "n.bin", fixture.url("/gen/100")], in: fixture.directory)
            #expect(result.exitCode == 2, "\(option): stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(fixture.server.stats.requestsServed == 0, "a usage error must not touch the network")
        }
    }

    @Test(
        "--secret-header takes a header name: one that is no token (it would never match, and the header would leak) is exit 2",
        arguments: ["X-Key:", "X Key", ""])
    func secretHeaderNameChecked(name: String) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                ["--secret-header", name, "-H", "X-Key: T", "-o", "s.bin", fixture.url("/gen/100")],
                in: fixture.directory)
            #expect(result.exitCode == 2, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(fixture.server.stats.requestsServed == 0)
        }
    }

    @Test(
        "a resume without ETag or Last-Modified compares the bytes before the resume point: another version restarts",
        arguments: Engine.allCases)
    func overlapCheckWithoutValidators(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(300000).seed(102).validators(false))
            // 100 KB of another version (seed 99), no meta: what an older download left.
            try writeFile(fixture.file("o.bin.part"), generatedBytes(seed: 99, count: 100_000))
            let result = try await netget(engine.arguments + ["-c", "-o", "o.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("differ from the server's"), "stderr: \(result.stderr)")
            expectGenerated(fixture.file("o.bin"), seed: 102, size: 300000)
            // The first request asked for the 64 KiB before the resume point again.
            let ranges = fixture.server.receivedRequests.flatMap { $0.values("Range") }
            #expect(ranges.first == "bytes=\(100_000 - 65536)-", "ranges asked: \(ranges)")
        }
    }

    @Test("the same version without validators: the overlap matches and only the rest is fetched", arguments: Engine.allCases)
    func overlapMatchesWithoutValidators(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(300000).seed(103).validators(false))
            try writeFile(fixture.file("s.bin.part"), generatedBytes(seed: 103, count: 100_000))
            let result = try await netget(engine.arguments + ["-c", "--json", "-o", "s.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(jsonSummaries(result).first?["resumed-from"]?.number == 100_000, "stdout: \(result.stdout)")
            expectGenerated(fixture.file("s.bin"), seed: 103, size: 300000)
        }
    }

    @Test("a complete length in Content-Range that differs from the meta's restarts from zero", arguments: Engine.allCases)
    func completeLengthChanged(engine: Engine) async throws {
        try await withFixture { fixture in
            // The same ETag, but the server's file is 60000 bytes now where the meta says 50000.
            let url = fixture.url(TestServerURL().gen(60000).seed(104).etag("same"))
            try writeFile(fixture.file("l.bin.part"), generatedBytes(seed: 104, count: 20000))
            try writeFile(fixture.file("l.bin.part.meta"), resumeMeta(url: url, etag: "\"same\"", length: 50000, missing: ["20000-49999"]))
            let result = try await netget(engine.arguments + ["-c", "-o", "l.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("length changed"), "stderr: \(result.stderr)")
            expectGenerated(fixture.file("l.bin"), seed: 104, size: 60000)
        }
    }

    @Test(
        "a weak ETag is no validator, and beside it a date may not be sent (RFC 9110 §13.1.5): no If-Range, the overlap is compared",
        arguments: Engine.allCases)
    func weakETagNotAValidator(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(50000).seed(105).etag("W/%22w1%22"))
            try writeFile(fixture.file("w.bin.part"), generatedBytes(seed: 105, count: 20000))
            try writeFile(
                fixture.file("w.bin.part.meta"),
                resumeMeta(
                    url: url, etag: "W/\"w1\"", lastModified: "Sat, 01 Jan 2022 00:00:00 GMT",
                    length: 50000, missing: ["20000-49999"]))
            let result = try await netget(engine.arguments + ["-c", "-o", "w.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("w.bin"), seed: 105, size: 50000)
            let ifRange = fixture.server.receivedRequests.flatMap { $0.values("If-Range") }
            #expect(ifRange.isEmpty, "If-Range sent: \(ifRange)")
            // "A client MUST NOT generate an If-Range header field containing an entity tag that is
            // marked as weak [...] or an HTTP-date unless the client has no entity tag": the 20000
            // stored bytes are asked for again and compared instead.
            let ranges = fixture.server.receivedRequests.flatMap { $0.values("Range") }
            #expect(ranges == ["bytes=0-49999"], "ranges asked: \(ranges)")
        }
    }

    @Test("a 206 to a request that asked for no range is refused (never written at offset 0)", arguments: Engine.allCases)
    func unsolicitedPartialRefused(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["--retries", "0", "-o", "p.bin", fixture.url(TestServerURL().gen(5000).seed(106).query("lie", "206"))],
                in: fixture.directory)
            #expect(result.exitCode == 1, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(result.stderr.contains("asked for no range"), "stderr: \(result.stderr)")
            #expect(!fileExists(fixture.file("p.bin")))
        }
    }
}

/// -A and -e (curl's names): the User-Agent and the Referer every request of a download sends.
@Suite("netget -A and -e")
struct NetgetUserAgentAndRefererTests {
    @Test("-A replaces the User-Agent and -e adds a Referer, on every segment's request", arguments: Engine.allCases)
    func userAgentAndReferer(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + [
                    "-A", "Mozilla/5.0 (X11) netget-test", "-e", "https://example.org/page", "-x", "2", "-o", "ua.bin",
                    fixture.url(TestServerURL().gen(3 << 20).seed(131)),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let requests = fixture.server.receivedRequests
            #expect(requests.count >= 2, "the segments' requests: \(requests.map(\.requestLine))")
            #expect(requests.allSatisfy { $0.values("User-Agent") == ["Mozilla/5.0 (X11) netget-test"] })
            #expect(requests.allSatisfy { $0.values("Referer") == ["https://example.org/page"] })
        }
    }

    @Test("-H Referer wins over -e; without -A the client's own User-Agent goes")
    func explicitHeaderWins() async throws {
        try await withFixture { fixture in
            let result = try await netget(
                ["-e", "https://a.example/", "-H", "Referer: https://b.example/", "-o", "r.bin", fixture.url("/gen/1000")],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let request = try #require(fixture.server.receivedRequests.last)
            #expect(request.values("Referer") == ["https://b.example/"])
            #expect(request.values("User-Agent").first?.hasPrefix("StacklessNet/") == true)
        }
    }

    @Test("a control character or an empty value in -A or -e is a usage error before any request", arguments: ["-A", "-e"])
    func controlCharactersRefused(option: String) async throws {
        try await withFixture { fixture in
            for value in ["evil\r\nX-Injected: 1", ""] {
                let result = try await netget([option, value, "-o", "x.bin", fixture.url("/gen/100")], in: fixture.directory)
                #expect(result.exitCode == 2, "\(option) \(value.debugDescription): stderr: \(result.stderr)")
            }
            #expect(fixture.server.stats.requestsServed == 0)
        }
    }
}
