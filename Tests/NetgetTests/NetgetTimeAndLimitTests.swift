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
