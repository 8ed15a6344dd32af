import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Many small files with -j: made durable in batches (`GroupCommit`), renamed only after their
/// batch's fdatasync, with no .part.meta for a small download that finishes (issue 15 point 11).
/// A kill at any moment, or a full disk, never leaves a file under its name with bytes missing.
@Suite("netget group commit of small files")
struct NetgetGroupCommitTests {
    /// `count` small files of different sizes (seed = index + `seedBase`), named `fNN.bin` by
    /// out= lines, as an aria2 list.
    struct SmallFiles {
        let names: [String]
        let sizes: [Int]
        let seeds: [UInt64]
        let list: String

        init(count: Int, seedBase: UInt64, fixture: Fixture) {
            // Sizes from a few bytes to just below the writer's 1 MiB buffer, and one above it
            // (which keeps a meta): both rules in one run.
            let sizes = (0..<count).map { index in index == 0 ? (1 << 20) + 5000 : 1 + (index * 37_813) % 150_000 }
            names = (0..<count).map { "f\($0).bin" }
            seeds = (0..<count).map { seedBase + UInt64($0) }
            self.sizes = sizes
            var text = ""
            for index in 0..<count {
                text += fixture.url(TestServerURL().gen(sizes[index]).seed(seeds[index])) + "\n  out=\(names[index])\n"
            }
            list = text
        }

        /// The SHA-256 each file must have, by name (one sha256sum over reference copies).
        func expectedDigests(in directory: String) async throws -> [String: String] {
            let references = directory + "/references"
            guard mkdir(references, 0o755) == 0 else { throw TestFailure("mkdir \(references): \(String(cString: strerror(errno)))") }
            defer { removeTree(references) }
            for index in names.indices {
                try writeFile(references + "/" + names[index], generatedBytes(seed: seeds[index], count: sizes[index]))
            }
            return try await sha256s(of: names, in: references)
        }
    }

    @Test(
        "-j 16 of 48 small files: every one byte-exact (SHA-256), no .part, .part.meta or temporary file left", arguments: Engine.allCases)
    func manySmallFiles(engine: Engine) async throws {
        try await withFixture { fixture in
            let files = SmallFiles(count: 48, seedBase: 300, fixture: fixture)
            #expect(mkdir(fixture.file("out"), 0o755) == 0)
            try writeFile(fixture.file("urls.txt"), Array(files.list.utf8))
            let result = try await netget(engine.arguments + ["-q", "-j", "16", "-d", "out", "-i", "urls.txt"], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let expected = try await files.expectedDigests(in: fixture.directory)
            let got = try await sha256s(of: files.names, in: fixture.file("out"))
            #expect(got == expected)
            #expect(directoryEntries(fixture.file("out")) == files.names.sorted())
        }
    }

    @Test("a small download stopped mid-body leaves a .part without meta (none is written for it); -c finishes it byte-exact")
    func smallFileKeepsNoMeta() async throws {
        try await withFixture { fixture in
            // The server stalls after 20000 bytes: netget is killed in the stall.
            let url = fixture.url(TestServerURL().gen(200_000).seed(310).fault(.stall(at: 20000, ms: 8000)).once("small"))
            let child = try await startNetget(["-o", "s.bin", url], in: fixture.directory)
            let server = fixture.server
            let sent = await sendSignals([SIGKILL], to: child, after: .milliseconds(400)) { server.stats.requestsServed >= 1 }
            _ = await finish(child)
            #expect(sent)
            #expect(fileExists(fixture.file("s.bin.part")), "entries: \(directoryEntries(fixture.directory))")
            #expect(!fileExists(fixture.file("s.bin.part.meta")), "a small download in one piece needs no meta")
            #expect(!fileExists(fixture.file("s.bin")))
            let resumed = try await netget(["-c", "-o", "s.bin", url], in: fixture.directory)
            #expect(resumed.exitCode == 0, "stderr: \(resumed.stderr)")
            expectGenerated(fixture.file("s.bin"), seed: 310, size: 200_000)
            #expect(directoryEntries(fixture.directory) == ["s.bin"])
        }
    }

    @Test(
        "SIGKILL at a random moment of a -j 8 run of small files: every file under its name is whole; -c then finishes all byte-exact",
        arguments: Engine.allCases, 0..<3)
    func killedDuringBatches(engine: Engine, round: Int) async throws {
        try await withFixture { fixture in
            let files = SmallFiles(count: 32, seedBase: 400 + UInt64(round) * 100, fixture: fixture)
            try writeFile(fixture.file("urls.txt"), Array(files.list.utf8))
            #expect(mkdir(fixture.file("out"), 0o755) == 0)
            // 32 files at 600 KB/s each, 8 at a time: about a second, so a moment in the first
            // 1.2 s lands before, between or inside batches (or after the last: as good a moment).
            let moment = Int.random(in: 0...1200)
            let common = engine.arguments + ["-q", "-j", "8", "-d", "out", "-i", "urls.txt"]
            let child = try await startNetget(common + ["--limit-rate", "600K"], in: fixture.directory)
            let server = fixture.server
            let sent = await sendSignals([SIGKILL], to: child, after: .milliseconds(moment)) { server.stats.requestsServed >= 1 }
            let killed = await finish(child)
            #expect(sent)
            expectNoCrashReport(killed)
            let expected = try await files.expectedDigests(in: fixture.directory)
            // The invariant: a file that has its name has every byte (it was synced before the rename).
            let renamed = files.names.filter { fileExists(fixture.file("out/" + $0)) }
            let whole = try await sha256s(of: renamed, in: fixture.file("out"))
            for name in renamed {
                #expect(whole[name] == expected[name], "\(name) has its name but not its bytes (killed at \(moment) ms)")
            }
            let resumed = try await netget(common + ["-c"], in: fixture.directory)
            #expect(resumed.exitCode == 0, "killed at \(moment) ms; stderr: \(resumed.stderr)")
            #expect(try await sha256s(of: files.names, in: fixture.file("out")) == expected, "killed at \(moment) ms")
            #expect(directoryEntries(fixture.file("out")) == files.names.sorted(), "killed at \(moment) ms")
        }
    }

    @Test(
        "the disk fills during a -j 16 run of small files: exit 23, and no file under its name is short",
        .enabled(if: SmallDisk.canMount, "needs root to mount a tmpfs"),
        arguments: Engine.allCases)
    func diskFullDuringBatches(engine: Engine) async throws {
        try await withFixture { fixture in
            let disk = try await SmallDisk(megabytes: 1)
            do {
                // About 2.6 MB of files (one of them above 1 MiB) for a 1 MiB disk.
                let files = SmallFiles(count: 36, seedBase: 500, fixture: fixture)
                try writeFile(fixture.file("urls.txt"), Array(files.list.utf8))
                let result = try await netget(
                    engine.arguments + ["-q", "-j", "16", "-d", disk.path, "-i", "urls.txt"], in: fixture.directory)
                #expect(result.exitCode == 23, "stderr: \(result.stderr)")
                #expect(result.stderr.contains("disk full"), "stderr: \(result.stderr)")
                expectNoCrashReport(result)
                let renamed = files.names.filter { fileExists(disk.path + "/" + $0) }
                #expect(renamed.count < files.names.count, "every file fitted: the disk was not full")
                for name in renamed {
                    guard let index = files.names.firstIndex(of: name) else { continue }
                    expectGenerated(disk.path + "/" + name, seed: files.seeds[index], size: UInt64(files.sizes[index]))
                }
                // Nothing but whole files and the .part (and meta) of those that did not fit.
                for entry in directoryEntries(disk.path) where !renamed.contains(entry) {
                    #expect(entry.hasSuffix(".part") || entry.hasSuffix(".part.meta"), "unexpected \(entry)")
                }
            } catch {
                await disk.remove()
                throw error
            }
            await disk.remove()
        }
    }
}

/// The SHA-256 of each named file in `directory` (one sha256sum run), by name; a missing file
/// has none.
func sha256s(of names: [String], in directory: String) async throws -> [String: String] {
    let present = names.filter { fileExists(directory + "/" + $0) }
    guard !present.isEmpty else { return [:] }
    let output = try await runTool("/usr/bin/sha256sum", present, in: directory)
    guard output.exitCode == 0 else { throw TestFailure("sha256sum failed: \(output.stderr)") }
    var digests: [String: String] = [:]
    for line in output.stdout.split(separator: "\n") {
        let fields = line.split(separator: " ", maxSplits: 1)
        guard fields.count == 2 else { continue }
        digests[String(fields[1].drop { $0 == " " || $0 == "*" })] = String(fields[0])
    }
    return digests
}
