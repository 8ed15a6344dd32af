import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Corners: empty files, hostile or clashing names, odd directories and .part files, servers
/// that refuse ranges, rate limits.
@Suite("netget edge cases")
struct NetgetEdgeCaseTests {
    @Test("an empty resource gives an empty file and exit 0", arguments: Engine.allCases)
    func emptyResource(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + ["-o", "empty.bin", fixture.url("/gen/0")], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 0)
            #expect(fileSize(fixture.file("empty.bin")) == 0)
            #expect(directoryEntries(fixture.directory) == ["empty.bin"])
        }
    }

    @Test("a Content-Disposition name cannot leave the -d directory", arguments: Engine.allCases)
    func hostileSuggestedName(engine: Engine) async throws {
        try await withFixture { fixture in
            mkdir(fixture.file("d"), 0o755)
            let result = try await netget(
                engine.arguments + [
                    "-d", "d", fixture.url(TestServerURL().gen(1000).seed(71).name("../../evil.bin")),
                    fixture.url(TestServerURL().gen(1000).seed(72).name("/tmp/.hidden")),
                ],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(directoryEntries(fixture.directory) == ["d"])
            #expect(directoryEntries(fixture.file("d")) == ["evil.bin", "hidden"])
            expectGenerated(fixture.file("d/evil.bin"), seed: 71, size: 1000)
            expectGenerated(fixture.file("d/hidden"), seed: 72, size: 1000)
        }
    }

    @Test("two URLs with the same last segment get two files (NAME, NAME.1), neither clobbered", arguments: Engine.allCases)
    func nameCollision(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["-j", "1", fixture.url("/gen/1000?seed=73"), fixture.url("/gen/1000?seed=74")],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(directoryEntries(fixture.directory) == ["1000", "1000.1"])
            expectGenerated(fixture.file("1000"), seed: 73, size: 1000)
            expectGenerated(fixture.file("1000.1"), seed: 74, size: 1000)
        }
    }

    @Test("-d with directories that do not exist creates them (mkdir -p, as wget -P) and downloads into them", arguments: Engine.allCases)
    func missingDirectory(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(engine.arguments + ["-d", "nodir/sub", fixture.url("/gen/1000?seed=75")], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 0)
            #expect(directoryEntries(fixture.directory) == ["nodir"])
            #expect(directoryEntries(fixture.file("nodir")) == ["sub"])
            #expect(directoryEntries(fixture.file("nodir/sub")) == ["1000"])
            expectGenerated(fixture.file("nodir/sub/1000"), seed: 75, size: 1000)
        }
    }

    @Test(
        "-d under a regular file cannot be created: exit 2, one line naming the directory and why, nothing fetched",
        arguments: Engine.allCases)
    func uncreatableDirectory(engine: Engine) async throws {
        try await withFixture { fixture in
            try writeFile(fixture.file("plain"), Array("not a directory".utf8))
            let result = try await netget(engine.arguments + ["-d", "plain/sub", fixture.url("/gen/1000?seed=75")], in: fixture.directory)
            #expect(result.exitCode == 2, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            let line = result.errorLines.first ?? ""
            #expect(line.contains("-d plain/sub"), "the line names the -d argument: \(result.stderr)")
            #expect(line.contains("cannot create ./plain/sub"), "the line names the directory that failed: \(result.stderr)")
            #expect(line.contains("Not a directory"), "the line says why (ENOTDIR): \(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(directoryEntries(fixture.directory) == ["plain"])
            #expect(fixture.server.stats.requestsServed == 0, "a usage error is found before any request")
        }
    }

    @Test("-c with a .part longer than the resource (no meta) starts over instead of failing on 416", arguments: Engine.allCases)
    func partLongerThanResource(engine: Engine) async throws {
        try await withFixture { fixture in
            try writeFile(fixture.file("y.bin.part"), [UInt8](repeating: 0x55, count: 70000))
            let result = try await netget(
                engine.arguments + ["-c", "-o", "y.bin", fixture.url("/gen/50000?seed=76")], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("y.bin"), seed: 76, size: 50000)
        }
    }

    @Test("-x 4 against a server without ranges falls back to one stream", arguments: Engine.allCases)
    func segmentedWithoutRanges(engine: Engine) async throws {
        try await withFixture { fixture in
            let size: UInt64 = 4 << 20
            let result = try await netget(
                engine.arguments + ["-x", "4", "-o", "nr.bin", fixture.url(TestServerURL().gen(size).seed(77).noRange())],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("nr.bin"), seed: 77, size: size)
            #expect(fixture.server.stats.requestsServed == 1)
        }
    }

    @Test("--limit-rate 400K holds 400 kB to about a second", arguments: Engine.allCases)
    func rateLimit(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["--limit-rate", "400K", "--json", "-o", "l.bin", fixture.url("/gen/400000?seed=78")],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("l.bin"), seed: 78, size: 400_000)
            let seconds = jsonSummaries(result).first?["seconds"]?.number ?? 0
            // 400000 / 409600 B/s is 0.98 s; a quarter second of burst is allowed.
            #expect(seconds >= 0.6 && seconds < 5, "took \(seconds) s")
        }
    }
}
