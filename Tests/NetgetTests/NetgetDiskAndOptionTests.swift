import HTTPClient
import HTTPTestServer
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
        guard result.exitCode == 0 else { throw HarnessError("mount tmpfs: \(result.stderr)") }
    }

    func resize(megabytes: Int) async throws {
        let result = try await runTool("/bin/mount", ["-o", "remount,size=\(megabytes)m", path], in: "/")
        guard result.exitCode == 0 else { throw HarnessError("remount tmpfs: \(result.stderr)") }
    }

    func remove() async {
        _ = try? await runTool("/bin/umount", [path], in: "/")
        rmdir(path)
    }
}

@Suite("netget disk and options")
struct NetgetDiskAndOptionTests {
    @Test("a full disk mid-download: exit 1, one 'disk full' line with what is missing, no PATH; after freeing space -c completes byte-exact",
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
                #expect(first.exitCode == 1, "stderr: \(first.stderr)")
                expectCleanErrors(first, count: 1)
                let line = first.errorLines.first ?? ""
                #expect(line.contains("disk full") && line.contains("full.bin.part") && line.contains("bytes still missing"), "stderr: \(first.stderr)")
                #expect(!fileExists(target))
                #expect(fileExists(target + ".part") && fileExists(target + ".part.meta"))

                try await disk.resize(megabytes: 16)
                let resumed = try await netget(engine.arguments + ["-c", "-x", String(connections), "-o", target, url], in: fixture.directory)
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

    @Test("numeric options out of range, NaN or infinite: exit 2 with one line, never a trap", arguments: [
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

    @Test("--secret-header takes a header name: one that is no token (it would never match, and the header would leak) is exit 2",
          arguments: ["X-Key:", "X Key", ""])
    func secretHeaderNameChecked(name: String) async throws {
        try await withFixture { fixture in
            let result = try await netget(["--secret-header", name, "-H", "X-Key: T", "-o", "s.bin", fixture.url("/gen/100")],
                                          in: fixture.directory)
            #expect(result.exitCode == 2, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(fixture.server.stats.requestsServed == 0)
        }
    }

    @Test("a resume without ETag or Last-Modified compares the bytes before the resume point: another version restarts",
          arguments: Engine.allCases)
    func overlapCheckWithoutValidators(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url("/gen/300000?seed=102&validators=0")
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
            let url = fixture.url("/gen/300000?seed=103&validators=0")
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
            let url = fixture.url("/gen/60000?seed=104&etag=same")
            try writeFile(fixture.file("l.bin.part"), generatedBytes(seed: 104, count: 20000))
            try writeFile(fixture.file("l.bin.part.meta"), resumeMeta(url: url, etag: "\"same\"", length: 50000, missing: ["20000-49999"]))
            let result = try await netget(engine.arguments + ["-c", "-o", "l.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("length changed"), "stderr: \(result.stderr)")
            expectGenerated(fixture.file("l.bin"), seed: 104, size: 60000)
        }
    }

    @Test("a weak ETag is no validator, and beside it a date may not be sent (RFC 9110 §13.1.5): no If-Range, the overlap is compared",
          arguments: Engine.allCases)
    func weakETagNotAValidator(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url("/gen/50000?seed=105&etag=W/%22w1%22")
            try writeFile(fixture.file("w.bin.part"), generatedBytes(seed: 105, count: 20000))
            try writeFile(fixture.file("w.bin.part.meta"), resumeMeta(url: url, etag: "W/\"w1\"", lastModified: "Sat, 01 Jan 2022 00:00:00 GMT",
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
            let result = try await netget(engine.arguments + ["--retries", "0", "-o", "p.bin", fixture.url("/gen/5000?seed=106&lie=206")],
                                          in: fixture.directory)
            #expect(result.exitCode == 1, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(result.stderr.contains("asked for no range"), "stderr: \(result.stderr)")
            #expect(!fileExists(fixture.file("p.bin")))
        }
    }
}

/// Cases found in review: a file that changes while its segments are fetched, a .part that is
/// another download's, a resume without validators on a disk that takes O_DIRECT, https -> http.
@Suite("netget hostile cases")
struct NetgetHostileCaseTests {
    @Test("the file changes on the server during a -x 4 download (a segment's retry sees it): restarted, the new version whole",
          arguments: Engine.allCases)
    func changesDuringSegmentedDownload(engine: Engine) async throws {
        try await withFixture { fixture in
            // Requests 1 (the first segment) to 4 (the three others) get seed 111; the first
            // segment is reset at 1.5 MB, and its retry (request 5) sees seed 112 and its ETag.
            let url = fixture.url("/gen/8m?seed=111&counter=c1&changeAfter=4&fault=reset&at=1500000&once=r1")
            let result = try await netget(engine.arguments + ["-x", "4", "--limit-rate", "8M", "--retry-delay", "0", "-o", "ch.bin", url],
                                          in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("changed"), "stderr: \(result.stderr)")
            expectNoCrashReport(result)
            expectGenerated(fixture.file("ch.bin"), seed: 112, size: 8 << 20)
            #expect(directoryEntries(fixture.directory) == ["ch.bin"])
        }
    }

    @Test("a 206 without the ETag its If-Range named proves nothing: the overlap is compared, another version restarts",
          arguments: Engine.allCases)
    func unprovenValidator(engine: Engine) async throws {
        try await withFixture { fixture in
            // The meta has an ETag, but this server sends none and ignores If-Range (validators=0).
            let url = fixture.url("/gen/300000?seed=116&validators=0")
            try writeFile(fixture.file("u.bin.part"), generatedBytes(seed: 99, count: 100_000))
            try writeFile(fixture.file("u.bin.part.meta"),
                          resumeMeta(url: url, etag: "\"116-300000\"", length: 300000, missing: ["100000-299999"]))
            let result = try await netget(engine.arguments + ["-c", "-o", "u.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("differ from the server's"), "stderr: \(result.stderr)")
            expectGenerated(fixture.file("u.bin"), seed: 116, size: 300000)
        }
    }

    @Test("-x 4 from a server without validators: the segments (nothing stored before them) are fetched once each, byte-exact",
          arguments: Engine.allCases)
    func segmentsWithoutValidators(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + ["-x", "4", "-o", "nv.bin", fixture.url("/gen/8m?seed=117&validators=0")],
                                          in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("nv.bin"), seed: 117, size: 8 << 20)
            // One request per segment: no segment is asked for again for want of a validator.
            #expect(fixture.server.receivedRequests.count == 4, "requests: \(fixture.server.receivedRequests.map(\.requestLine))")
        }
    }

    @Test("a server-chosen name whose .part is there (another download's) gets .1; that .part is not touched")
    func foreignPartIsNotEmptied() async throws {
        try await withFixture { fixture in
            let foreign = Array("another download in progress".utf8)
            try writeFile(fixture.file("movie.mkv.part"), foreign)
            let result = try await netget([fixture.url("/gen/5000?seed=113&name=movie.mkv")], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(try readFile(fixture.file("movie.mkv.part")) == foreign)
            expectGenerated(fixture.file("movie.mkv.1"), seed: 113, size: 5000)
            #expect(!fileExists(fixture.file("movie.mkv")))
        }
    }

    @Test("a reset on a server without validators, with O_DIRECT writes: the retry's overlap is read back and matches",
          arguments: Engine.allCases)
    func resetWithoutValidatorsOnDirectDisk(engine: Engine) async throws {
        try await withFixture { fixture in
            // 5.5 MiB: half a 1 MiB write buffer is still gathered when the reset comes.
            let url = fixture.url("/gen/8m?seed=114&validators=0&fault=reset&at=5767168&once=r2")
            let result = try await netget(engine.arguments + ["--retry-delay", "0", "-o", "v.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(!result.stderr.contains("starting over"), "the overlap of the same version must match: \(result.stderr)")
            expectGenerated(fixture.file("v.bin"), seed: 114, size: 8 << 20)
            // One retry, from 64 KiB before where the bytes stopped (a reset drops what the kernel
            // had not handed over yet, so where exactly is the kernel's to say).
            let ranges = fixture.server.receivedRequests.flatMap { $0.values("Range") }
            let start = ranges.first.flatMap { UInt64($0.dropFirst(6).dropLast()) }
            #expect(ranges.count == 1 && (start ?? 0) > 0 && ranges[0].hasSuffix("-"), "ranges asked: \(ranges)")
        }
    }

    @Test("a redirect from https to http is refused, naming --allow-insecure-redirect; with it, followed", arguments: Engine.allCases)
    func insecureRedirect(engine: Engine) async throws {
        try await withFixture { fixture in
            let (certificate, key) = try TestCertificate.generate(inDirectory: fixture.directory + "/tls")
            let secure = try TestHTTPServer.start(.init(tls: TLSContext.server(certificateFile: certificate, privateKeyFile: key)))
            defer { secure.stop() }
            let url = "\(secure.baseURL)/redirect/302?to=\(percentEncoded(fixture.url("/gen/3000?seed=115")))"
            let refused = try await netget(engine.arguments + ["--cacert", certificate, "-o", "r.bin", url], in: fixture.directory)
            #expect(refused.exitCode == 1, "stderr: \(refused.stderr)")
            expectCleanErrors(refused, count: 1)
            #expect(refused.stderr.contains("--allow-insecure-redirect"), "stderr: \(refused.stderr)")
            #expect(fixture.server.receivedRequests.isEmpty, "the http origin was contacted")
            let allowed = try await netget(engine.arguments + ["--cacert", certificate, "--allow-insecure-redirect", "-o", "r.bin", url],
                                           in: fixture.directory)
            #expect(allowed.exitCode == 0, "stderr: \(allowed.stderr)")
            expectGenerated(fixture.file("r.bin"), seed: 115, size: 3000)
        }
    }
}
