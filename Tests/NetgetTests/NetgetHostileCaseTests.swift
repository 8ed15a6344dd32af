import HTTPClient
import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Cases found in review: a file that changes while its segments are fetched, a .part that is
/// another download's, a resume without validators on a disk that takes O_DIRECT, https -> http.
@Suite("netget hostile cases")
struct NetgetHostileCaseTests {
    @Test(
        "the file changes on the server during a -x 4 download (a segment's retry sees it): restarted, the new version whole",
        arguments: Engine.allCases)
    func changesDuringSegmentedDownload(engine: Engine) async throws {
        try await withFixture { fixture in
            // Requests 1 (the first segment) to 4 (the three others) get seed 111; the first
            // segment is reset at 1.5 MB, and its retry (request 5) sees seed 112 and its ETag.
            let url = fixture.url(TestServerURL().gen("8m").seed(111).counter("c1", changeAfter: 4).fault(.reset(at: 1_500_000)).once("r1"))
            let result = try await netget(
                engine.arguments + ["-x", "4", "--limit-rate", "8M", "--retry-delay", "0", "-o", "ch.bin", url],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("changed"), "stderr: \(result.stderr)")
            expectNoCrashReport(result)
            expectGenerated(fixture.file("ch.bin"), seed: 112, size: 8 << 20)
            #expect(directoryEntries(fixture.directory) == ["ch.bin"])
        }
    }

    @Test(
        "a 206 without the ETag its If-Range named proves nothing: the overlap is compared, another version restarts",
        arguments: Engine.allCases)
    func unprovenValidator(engine: Engine) async throws {
        try await withFixture { fixture in
            // The meta has an ETag, but this server sends none and ignores If-Range (validators=0).
            let url = fixture.url(TestServerURL().gen(300000).seed(116).validators(false))
            try writeFile(fixture.file("u.bin.part"), generatedBytes(seed: 99, count: 100_000))
            try writeFile(
                fixture.file("u.bin.part.meta"),
                resumeMeta(url: url, etag: "\"116-300000\"", length: 300000, missing: ["100000-299999"]))
            let result = try await netget(engine.arguments + ["-c", "-o", "u.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("differ from the server's"), "stderr: \(result.stderr)")
            expectGenerated(fixture.file("u.bin"), seed: 116, size: 300000)
        }
    }

    @Test(
        "-x 4 from a server without validators: the segments (nothing stored before them) are fetched once each, byte-exact",
        arguments: Engine.allCases)
    func segmentsWithoutValidators(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["-x", "4", "-o", "nv.bin", fixture.url(TestServerURL().gen("8m").seed(117).validators(false))],
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
            let result = try await netget([fixture.url(TestServerURL().gen(5000).seed(113).name("movie.mkv"))], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(try readFile(fixture.file("movie.mkv.part")) == foreign)
            expectGenerated(fixture.file("movie.mkv.1"), seed: 113, size: 5000)
            #expect(!fileExists(fixture.file("movie.mkv")))
        }
    }

    @Test(
        "a reset on a server without validators, with O_DIRECT writes: the retry's overlap is read back and matches",
        arguments: Engine.allCases)
    func resetWithoutValidatorsOnDirectDisk(engine: Engine) async throws {
        try await withFixture { fixture in
            // 5.5 MiB: half a 1 MiB write buffer is still gathered when the reset comes.
            let url = fixture.url(TestServerURL().gen("8m").seed(114).validators(false).fault(.reset(at: 5_767_168)).once("r2"))
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
            let allowed = try await netget(
                engine.arguments + ["--cacert", certificate, "--allow-insecure-redirect", "-o", "r.bin", url],
                in: fixture.directory)
            #expect(allowed.exitCode == 0, "stderr: \(allowed.stderr)")
            expectGenerated(fixture.file("r.bin"), seed: 115, size: 3000)
        }
    }
}
