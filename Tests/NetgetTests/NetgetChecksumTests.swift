import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The digests `--checksum` takes, each with the coreutils tool that computes the expected
/// value independently of netget (and of OpenSSL).
struct DigestCase: Sendable, CustomTestStringConvertible {
    let type: String
    let tool: String
    var testDescription: String { type }

    static let all = [
        DigestCase(type: "sha-1", tool: "/usr/bin/sha1sum"), DigestCase(type: "sha-256", tool: "/usr/bin/sha256sum"),
        DigestCase(type: "sha-512", tool: "/usr/bin/sha512sum"), DigestCase(type: "md5", tool: "/usr/bin/md5sum"),
    ]

    /// The digest (lower-case hex) of a file, by the tool.
    func digest(ofFile path: String) async throws -> String {
        let output = try await runTool(tool, [path], in: "/")
        guard output.exitCode == 0, let digest = output.stdout.split(separator: " ").first else {
            throw TestFailure("\(tool) \(path) failed: \(output.stderr)")
        }
        return String(digest)
    }

    /// The digest of the server's content for `seed` and `size` (a reference file, then removed).
    func expected(seed: UInt64, size: Int, in directory: String) async throws -> String {
        let reference = directory + "/reference-\(seed)-\(size)"
        try writeFile(reference, generatedBytes(seed: seed, count: size))
        defer { unlink(reference) }
        return try await digest(ofFile: reference)
    }
}

/// `hex` with its last digit changed: a digest that is almost right must fail too.
func almost(_ hex: String) -> String {
    String(hex.dropLast()) + (hex.last == "0" ? "1" : "0")
}

/// `--checksum TYPE=HEX` (aria2's syntax) and `--sha256`: every type, segmented (-x) and resumed
/// (-c) downloads, a mismatch exit 3 with PATH.part kept.
@Suite("netget checksums")
struct NetgetChecksumTests {
    @Test(
        "--checksum TYPE=HEX with -x 4: the right digest gives PATH (exit 0), an almost-right one exit 3 and PATH.part",
        arguments: Engine.allCases, DigestCase.all)
    func everyType(engine: Engine, digest: DigestCase) async throws {
        try await withFixture { fixture in
            let size = 3 << 20 + 12345
            let url = fixture.url(TestServerURL().gen(size).seed(61))
            let right = try await digest.expected(seed: 61, size: size, in: fixture.directory)
            // aria2 spells the type in lower case; upper-case hex is a digest all the same.
            let good = try await netget(
                engine.arguments + ["-x", "4", "--checksum", "\(digest.type)=\(right.uppercased())", "-o", "ok.bin", url],
                in: fixture.directory)
            #expect(good.exitCode == 0, "stderr: \(good.stderr)")
            expectGenerated(fixture.file("ok.bin"), seed: 61, size: UInt64(size))

            let bad = try await netget(
                engine.arguments + ["-x", "4", "--checksum", "\(digest.type)=\(almost(right))", "-o", "bad.bin", url],
                in: fixture.directory)
            #expect(bad.exitCode == 3, "stderr: \(bad.stderr)")
            expectCleanErrors(bad, count: 1)
            let line = bad.errorLines.first ?? ""
            #expect(line.contains("checksum mismatch"), "stderr: \(bad.stderr)")
            #expect(line.contains("expected \(digest.type) \(almost(right))") && line.contains("got \(right)"), "\(line)")
            #expect(line.contains("bad.bin.part"), "the line says where the data is: \(line)")
            #expect(!fileExists(fixture.file("bad.bin")))
            expectGenerated(fixture.file("bad.bin.part"), seed: 61, size: UInt64(size))
        }
    }

    @Test(
        "-c with --checksum sha-512: the bytes the .part kept are hashed with the new ones (exit 0), and a wrong digest is exit 3",
        arguments: Engine.allCases)
    func resumedDownloadIsHashedWhole(engine: Engine) async throws {
        try await withFixture { fixture in
            let size = 400_000
            let sha512 = DigestCase.all[2]
            let right = try await sha512.expected(seed: 62, size: size, in: fixture.directory)
            for (name, expected, status) in [("r.bin", right, Int32(0)), ("w.bin", almost(right), Int32(3))] {
                // The first run stops after 150000 bytes (no retry) and keeps them in NAME.part; the
                // second asks the same URL, which then sends the whole body.
                let url = fixture.url(TestServerURL().gen(size).seed(62).fault(.close(at: 150_000)).once("cut-\(name)"))
                let cut = try await netget(engine.arguments + ["--retries", "0", "-o", name, url], in: fixture.directory)
                #expect(cut.exitCode == 7, "stderr: \(cut.stderr)")  // cut short: the connection broke
                #expect(fileSize(fixture.file(name + ".part")) == 150_000)
                let resumed = try await netget(
                    engine.arguments + ["--json", "-c", "--checksum", "sha-512=\(expected)", "-o", name, url], in: fixture.directory)
                #expect(resumed.exitCode == status, "stderr: \(resumed.stderr)")
                #expect(jsonSummaries(resumed).first?["resumed-from"]?.number == 150_000, "it continued, not started over")
                expectGenerated(fixture.file(status == 0 ? name : name + ".part"), seed: 62, size: UInt64(size))
            }
        }
    }

    @Test("--sha256 HEX stays the short form of --checksum sha-256=HEX", arguments: Engine.allCases)
    func sha256ShortForm(engine: Engine) async throws {
        try await withFixture { fixture in
            let sha = try await expectedSHA256(seed: 63, size: 5000, in: fixture.directory)
            let url = fixture.url(TestServerURL().gen(5000).seed(63))
            let long = try await netget(
                engine.arguments + ["-q", "--checksum", "sha256=\(sha)", "-o", "a.bin", url], in: fixture.directory)
            let short = try await netget(engine.arguments + ["-q", "--sha256", sha, "-o", "b.bin", url], in: fixture.directory)
            let wrong = try await netget(engine.arguments + ["-q", "--sha256", almost(sha), "-o", "c.bin", url], in: fixture.directory)
            #expect(long.exitCode == 0 && short.exitCode == 0, "stderr: \(long.stderr) \(short.stderr)")
            #expect(wrong.exitCode == 3)
            #expect(directoryEntries(fixture.directory) == ["a.bin", "b.bin", "c.bin.part", "c.bin.part.meta"])
        }
    }
}
