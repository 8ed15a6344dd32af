import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The file's time and -N (issue 15 point 5), end to end against the test server, both engines.
@Suite("netget: file times and -N")
struct NetgetTimestampTests {
    /// The test server's default Last-Modified, Sat, 01 Jan 2022 00:00:00 GMT.
    static let defaultLastModified: Int64 = 1_640_995_200

    @Test("the file's mtime is the server's Last-Modified; --no-remote-time keeps the download time", arguments: Engine.allCases)
    func mtimeFromLastModified(engine: Engine) async throws {
        try await withFixture { fixture in
            let stamped = fixture.url(TestServerURL().gen(3000).seed(51).query("mtime", percentEncoded("Tue, 15 Nov 2022 08:12:31 GMT")))
            let result = try await netget(engine.arguments + ["-q", "-o", "a.bin", stamped], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("a.bin"), seed: 51, size: 3000)
            #expect(fileTimes(fixture.file("a.bin"))?.mtime == 1_668_499_951)

            let before = Int64(time(nil))
            let kept = try await netget(
                engine.arguments + ["-q", "--no-remote-time", "-o", "b.bin", fixture.url(TestServerURL().gen(3000).seed(51))],
                in: fixture.directory)
            #expect(kept.exitCode == 0, "stderr: \(kept.stderr)")
            #expect((fileTimes(fixture.file("b.bin"))?.mtime ?? 0) >= before - 1)

            // A Last-Modified that does not parse is ignored: the download's time stays.
            let garbled = try await netget(
                engine.arguments + ["-q", "-o", "c.bin", fixture.url(TestServerURL().gen(3000).seed(51).query("mtime", "yesterday"))],
                in: fixture.directory)
            #expect(garbled.exitCode == 0, "stderr: \(garbled.stderr)")
            #expect((fileTimes(fixture.file("c.bin"))?.mtime ?? 0) >= before - 1)
        }
    }

    @Test("-N: a 304 leaves the file untouched, exit 0, \"up to date\"", arguments: Engine.allCases)
    func notModifiedLeavesFile(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(5000).seed(52))
            let first = try await netget(engine.arguments + ["-q", "-o", "n.bin", url], in: fixture.directory)
            #expect(first.exitCode == 0, "stderr: \(first.stderr)")
            let before = try #require(fileTimes(fixture.file("n.bin")))
            let again = try await netget(engine.arguments + ["-N", "-o", "n.bin", url], in: fixture.directory)
            #expect(again.exitCode == 0, "stderr: \(again.stderr)")
            #expect(again.stderr.contains("up to date"), "stderr: \(again.stderr)")
            // Untouched: not rewritten, renamed, or even given a new attribute (any of those moves ctime).
            #expect(fileTimes(fixture.file("n.bin")) == before)
            #expect(directoryEntries(fixture.directory) == ["n.bin"])
            expectGenerated(fixture.file("n.bin"), seed: 52, size: 5000)
        }
    }

    @Test("-N asks with the ETag kept from the last download: another ETag is fetched again", arguments: Engine.allCases)
    func keptETagIsAskedFirst(engine: Engine) async throws {
        try await withFixture { fixture in
            let first = try await netget(
                engine.arguments + ["-q", "-o", "e.bin", fixture.url(TestServerURL().gen(4000).seed(53).etag("v1"))], in: fixture.directory)
            #expect(first.exitCode == 0, "stderr: \(first.stderr)")
            let kept = FileSystemCalls.extendedAttribute(path: fixture.file("e.bin"), name: "user.netget.etag")
            // Same Last-Modified, another ETag (and content): If-Modified-Since alone would say 304.
            let changed = fixture.url(TestServerURL().gen(4000).seed(54).etag("v2"))
            let again = try await netget(engine.arguments + ["-N", "-o", "e.bin", changed], in: fixture.directory)
            #expect(again.exitCode == 0, "stderr: \(again.stderr)")
            if let kept {
                #expect(String(decoding: kept, as: UTF8.self) == "4000 \(Self.defaultLastModified) \"v1\"")
                expectGenerated(fixture.file("e.bin"), seed: 54, size: 4000)
                #expect(fileTimes(fixture.file("e.bin"))?.mtime == Self.defaultLastModified)
                #expect(!fileExists(fixture.file("e.bin.part")) && !fileExists(fixture.file("e.bin.1")))
            } else {
                // No user attributes here (tmpfs): -N falls back to the date, which says 304.
                #expect(again.stderr.contains("up to date"), "stderr: \(again.stderr)")
                expectGenerated(fixture.file("e.bin"), seed: 53, size: 4000)
            }
        }
    }

    @Test("-N without a usable ETag asks with the file's mtime (If-Modified-Since)", arguments: Engine.allCases)
    func ifModifiedSinceFromMtime(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(6000).seed(55))
            let path = fixture.file("m.bin")
            let first = try await netget(engine.arguments + ["-q", "-o", "m.bin", url], in: fixture.directory)
            #expect(first.exitCode == 0, "stderr: \(first.stderr)")
            // Newer than the server's Last-Modified (and no longer the time the kept ETag was
            // recorded with, so the ETag is not used): 304, the file and its time stay.
            try setModificationTime(path, Self.defaultLastModified + 86400)
            let newer = try await netget(engine.arguments + ["-N", "-o", "m.bin", url], in: fixture.directory)
            #expect(newer.exitCode == 0, "stderr: \(newer.stderr)")
            #expect(newer.stderr.contains("up to date"), "stderr: \(newer.stderr)")
            #expect(fileTimes(path)?.mtime == Self.defaultLastModified + 86400)
            // Older: the server's copy is newer, fetched again through PATH.part, its time set.
            try setModificationTime(path, Self.defaultLastModified - 86400)
            let older = try await netget(engine.arguments + ["-N", "-o", "m.bin", url], in: fixture.directory)
            #expect(older.exitCode == 0, "stderr: \(older.stderr)")
            #expect(!older.stderr.contains("up to date"), "stderr: \(older.stderr)")
            #expect(fileTimes(path)?.mtime == Self.defaultLastModified)
            expectGenerated(path, seed: 55, size: 6000)
            #expect(directoryEntries(fixture.directory) == ["m.bin"])
        }
    }

    @Test("-N with no file there is a plain download, named from the URL", arguments: Engine.allCases)
    func timestampingWithoutFile(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["-q", "-N", fixture.url(TestServerURL().gen(2500).seed(56))], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("2500"), seed: 56, size: 2500)
            // Again, without -o: the file of the URL's name is compared, not made into 2500.1.
            let again = try await netget(engine.arguments + ["-N", fixture.url(TestServerURL().gen(2500).seed(56))], in: fixture.directory)
            #expect(again.exitCode == 0 && again.stderr.contains("up to date"), "stderr: \(again.stderr)")
            #expect(directoryEntries(fixture.directory) == ["2500"])
        }
    }

    @Test("a 304 to a request that asked no condition is an error", arguments: Engine.allCases)
    func unconditional304IsAnError(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["-o", "u.bin", fixture.url(TestServerURL().gen(100).fault(.status(code: 304)))], in: fixture.directory)
            #expect(result.exitCode == 1)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("304") == true, "stderr: \(result.stderr)")
            #expect(directoryEntries(fixture.directory).isEmpty)
        }
    }

    @Test("-N is refused with -o - and with --no-clobber")
    func timestampingConflicts() async throws {
        try await withFixture { fixture in
            for extra in [["-o", "-"], ["--no-clobber"]] {
                let result = try await netget(["-N"] + extra + [fixture.url("/gen/10")], in: fixture.directory)
                #expect(result.exitCode == 2, "\(extra): \(result.stderr)")
            }
        }
    }
}

/// --speed-limit/--speed-time, --max-time, --max-filesize (issue 15 point 6), end to end.
@Suite("netget: speed, time and size limits")
struct NetgetLimitTests {
    static let quickRetries = ["--retry-delay", "0.05"]

    @Test("a crawl below --speed-limit for --speed-time is retried with a range and completes", arguments: Engine.allCases)
    func slowCrawlIsRetried(engine: Engine) async throws {
        try await withFixture { fixture in
            // The first response crawls at 2,000 B/s; the retry (once= spent) comes at full speed.
            let url = fixture.url(TestServerURL().gen(200_000).seed(61).fault(.drip(rate: 2000)).once("slow-\(engine)"))
            let result = try await netget(
                engine.arguments + Self.quickRetries + ["--json", "--speed-limit", "20000", "--speed-time", "1", "-o", "s.bin", url],
                in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("slower than 20000 B/s for 1 s"), "stderr: \(result.stderr)")
            #expect((jsonSummaries(result).first?["retries"]?.number ?? 0) >= 1, "stdout: \(result.stdout)")
            expectGenerated(fixture.file("s.bin"), seed: 61, size: 200_000)
            // Judged after one window, not at the first slow read, nor after --timeout (30 s).
            #expect(result.elapsed >= .milliseconds(900) && result.elapsed < .seconds(20), "took \(result.elapsed)")
        }
    }

    @Test("slow on every try: exit 28, the reason, PATH.part kept for -c", arguments: Engine.allCases)
    func slowEveryTimeFails(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(100_000).seed(62).fault(.drip(rate: 1000)))
            let result = try await netget(
                engine.arguments + Self.quickRetries + ["--retries", "1", "-Y", "5000", "-y", "0.5", "-o", "s.bin", url],
                in: fixture.directory)
            #expect(result.exitCode == 28)  // a timeout (ExitStatus)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("slower than 5000 B/s for 0.5 s") == true, "stderr: \(result.stderr)")
            #expect(fileExists(fixture.file("s.bin.part")) && !fileExists(fixture.file("s.bin")))
        }
    }

    @Test("a server that stops sending counts as too slow within --speed-time, not --timeout", arguments: Engine.allCases)
    func stallTripsSpeedTime(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(100_000).seed(63).fault(.stall(at: 10000, ms: 20000)).once("stall-\(engine)"))
            let result = try await netget(
                engine.arguments + Self.quickRetries + ["-Y", "1000", "-y", "1", "-o", "t.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("t.bin"), seed: 63, size: 100_000)
            #expect(result.elapsed < .seconds(15), "took \(result.elapsed)")
        }
    }

    @Test("--max-time stops the whole download: exit 28, PATH.part kept, -c finishes it", arguments: Engine.allCases)
    func maxTimeKeepsPart(engine: Engine) async throws {
        try await withFixture { fixture in
            let slow = fixture.url(TestServerURL().gen(300_000).seed(64).fault(.drip(rate: 50000)).once("max-\(engine)"))
            let result = try await netget(engine.arguments + ["--max-time", "1", "-o", "m.bin", slow], in: fixture.directory)
            #expect(result.exitCode == 28)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("--max-time") == true, "stderr: \(result.stderr)")
            #expect(result.elapsed < .seconds(10), "took \(result.elapsed)")
            #expect(fileExists(fixture.file("m.bin.part")) && fileExists(fixture.file("m.bin.part.meta")))
            #expect(!fileExists(fixture.file("m.bin")))
            // The same URL (its once= token spent: full speed now) continues the kept bytes.
            let resumed = try await netget(engine.arguments + ["--json", "-c", "-o", "m.bin", slow], in: fixture.directory)
            #expect(resumed.exitCode == 0, "stderr: \(resumed.stderr)")
            #expect((jsonSummaries(resumed).first?["resumed-from"]?.number ?? 0) > 0, "stdout: \(resumed.stdout)")
            expectGenerated(fixture.file("m.bin"), seed: 64, size: 300_000)
        }
    }

    @Test("--max-time counts every retry and back-off, not each attempt", arguments: Engine.allCases)
    func maxTimeOverRetries(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(100_000).seed(65).fault(.reset(at: 1000)))
            let result = try await netget(
                engine.arguments + ["--retries", "1000", "--retry-delay", "0.1", "--max-time", "1.5", "-o", "r.bin", url],
                in: fixture.directory)
            #expect(result.exitCode == 28)
            #expect(result.errorLines.first?.contains("--max-time") == true, "stderr: \(result.stderr)")
            #expect(result.elapsed < .seconds(10), "took \(result.elapsed)")
        }
    }

    @Test("--max-filesize below Content-Length: refused before any byte, no PATH.part", arguments: Engine.allCases)
    func maxFileSizeByLength(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netget(
                engine.arguments + ["--max-filesize", "10K", "-o", "big.bin", fixture.url(TestServerURL().gen(20000).seed(66))],
                in: fixture.directory)
            #expect(result.exitCode == 63)  // curl's code for --max-filesize
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("20000 bytes, more than the limit of 10240") == true, "stderr: \(result.stderr)")
            #expect(directoryEntries(fixture.directory).isEmpty)
            // At the limit exactly: fine.
            let fits = try await netget(
                engine.arguments + ["-q", "--max-filesize", "20000", "-o", "fits.bin", fixture.url(TestServerURL().gen(20000).seed(66))],
                in: fixture.directory)
            #expect(fits.exitCode == 0, "stderr: \(fits.stderr)")
            expectGenerated(fixture.file("fits.bin"), seed: 66, size: 20000)
        }
    }

    @Test("--max-filesize without a length (chunked): stopped past the limit, PATH.part removed", arguments: Engine.allCases)
    func maxFileSizeChunked(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url(TestServerURL().gen(300_000).seed(67).chunked(chunk: 4096))
            let result = try await netget(engine.arguments + ["--max-filesize", "100000", "-o", "c.bin", url], in: fixture.directory)
            #expect(result.exitCode == 63)
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("passed the limit of 100000 bytes") == true, "stderr: \(result.stderr)")
            #expect(directoryEntries(fixture.directory).isEmpty)
            let fits = try await netget(
                engine.arguments + ["-q", "--max-filesize", "300000", "-o", "c.bin", url], in: fixture.directory)
            #expect(fits.exitCode == 0, "stderr: \(fits.stderr)")
            expectGenerated(fixture.file("c.bin"), seed: 67, size: 300_000)
        }
    }

    @Test("bad limits are usage errors")
    func badLimits() async throws {
        try await withFixture { fixture in
            let cases: [[String]] = [
                ["--speed-limit", "fast"], ["--speed-limit", "0"], ["--speed-time", "0"], ["--max-time", "-1"],
                ["--max-time", "nan"], ["--max-filesize", "0"], ["--limit-rate", "1K", "--speed-limit", "2K"],
            ]
            for extra in cases {
                let result = try await netget(extra + [fixture.url("/gen/10")], in: fixture.directory)
                #expect(result.exitCode == 2, "\(extra): \(result.stderr)")
            }
        }
    }
}

/// The file's mtime and ctime in whole seconds and nanoseconds.
struct FileTimes: Equatable {
    var mtime: Int64
    var mtimeNanos: Int
    var ctime: Int64
    var ctimeNanos: Int
    var inode: UInt64
}

func fileTimes(_ path: String) -> FileTimes? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return FileTimes(
        mtime: Int64(info.st_mtim.tv_sec), mtimeNanos: info.st_mtim.tv_nsec, ctime: Int64(info.st_ctim.tv_sec),
        ctimeNanos: info.st_ctim.tv_nsec, inode: UInt64(info.st_ino))
}

/// Sets a file's mtime (and atime) to `seconds`. - Throws: `TestFailure`.
func setModificationTime(_ path: String, _ seconds: Int64) throws {
    var times = [timespec(tv_sec: time_t(seconds), tv_nsec: 0), timespec(tv_sec: time_t(seconds), tv_nsec: 0)]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else {
        throw TestFailure("utimensat \(path): \(String(cString: strerror(errno)))")
    }
}
