import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `-c` against what is on disk (a .part with or without meta, from this or another version
/// of the file), and `--sha256`.
@Suite("netget resume and checksum")
struct NetgetResumeTests {
    @Test(
        "-c with a garbage .part (no meta) and a server that ignores Range: restarted from zero, never appended",
        arguments: Engine.allCases, [5000, 70000])
    func resumeIgnoredRange(engine: Engine, garbageLength: Int) async throws {
        try await withFixture { fixture in
            try writeFile(fixture.file("x.bin.part"), [UInt8](repeating: 0xAA, count: garbageLength))
            let result = try await netget(
                engine.arguments + ["-c", "-o", "x.bin", fixture.url(TestServerURL().gen(50000).seed(41).noRange())],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("x.bin"), seed: 41, size: 50000)
            #expect(directoryEntries(fixture.directory) == ["x.bin"])
        }
    }

    @Test("-c with a .part whose meta has another ETag: the file changed, so it starts over", arguments: Engine.allCases)
    func resumeChangedFile(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(50000).seed(42).etag("v2"))
            // 20000 bytes of another version (seed 99), saved with that version's ETag.
            try writeFile(fixture.file("x.bin.part"), generatedBytes(seed: 99, count: 20000))
            try writeFile(fixture.file("x.bin.part.meta"), resumeMeta(url: url, etag: "\"v1\"", length: 50000, missing: ["20000-49999"]))
            let result = try await netget(engine.arguments + ["-c", "-o", "x.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("x.bin"), seed: 42, size: 50000)
            #expect(directoryEntries(fixture.directory) == ["x.bin"])
        }
    }

    @Test("-c with a .part whose meta matches the server: only the missing range is fetched and appended", arguments: Engine.allCases)
    func resumeMatchingFile(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url("/gen/50000?seed=43")
            // Marker bytes (seed 99) in the stored part: a real resume keeps them, a restart would not.
            let stored = generatedBytes(seed: 99, count: 20000)
            try writeFile(fixture.file("x.bin.part"), stored)
            try writeFile(
                fixture.file("x.bin.part.meta"), resumeMeta(url: url, etag: "\"43-50000\"", length: 50000, missing: ["20000-49999"]))
            let result = try await netget(engine.arguments + ["-c", "--json", "-o", "x.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let summary = jsonSummaries(result).first
            #expect(summary?["resumed-from"]?.number == 20000, "stdout: \(result.stdout)")
            #expect(summary?["bytes"]?.number == 50000)
            let bytes = try readFile(fixture.file("x.bin"))
            try #require(bytes.count == 50000, "x.bin has \(bytes.count) bytes")
            #expect(Array(bytes[0..<20000]) == stored, "the stored part was not kept")
            #expect(Array(bytes[20000...]) == generatedBytes(seed: 43, count: 30000, offset: 20000))
            #expect(directoryEntries(fixture.directory) == ["x.bin"])
        }
    }

    @Test("--sha256 with the right digest: exit 0, the file in place", arguments: Engine.allCases)
    func checksumMatch(engine: Engine) async throws {
        try await withFixture { fixture in
            let sha = try await expectedSHA256(seed: 51, size: 300_000, in: fixture.directory)
            let result = try await netget(
                engine.arguments + ["--sha256", sha.uppercased(), "-o", "v.bin", fixture.url("/gen/300000?seed=51")],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("v.bin"), seed: 51, size: 300_000)
            #expect(try await sha256Hex(ofFile: fixture.file("v.bin")) == sha)
        }
    }

    @Test("--sha256 mismatch: exit 3, one line, no PATH, the data kept in PATH.part", arguments: Engine.allCases)
    func checksumMismatch(engine: Engine) async throws {
        try await withFixture { fixture in
            let wrong = String(repeating: "0", count: 64)
            let result = try await netget(
                engine.arguments + ["--sha256", wrong, "-o", "v.bin", fixture.url("/gen/300000?seed=52")],
                in: fixture.directory)
            #expect(result.exitCode == 3, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("checksum mismatch") == true)
            #expect(!fileExists(fixture.file("v.bin")))
            expectGenerated(fixture.file("v.bin.part"), seed: 52, size: 300_000)
        }
    }
}
