import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `-i FILE` and `-i -` in aria2's form: a URL line, then indented `out=`, `dir=`,
/// `checksum=TYPE=HEX` and `header=` lines for it; the plain one-URL-a-line form too.
@Suite("netget URL lists")
struct NetgetURLListTests {
    @Test(
        "an aria2 list file: out= and dir= name each file, header= goes with its URL only, checksum= is checked",
        arguments: Engine.allCases)
    func optionsPerEntry(engine: Engine) async throws {
        try await withFixture { fixture in
            let md5 = try await DigestCase.all[3].expected(seed: 71, size: 200_000, in: fixture.directory)
            let list = """
                # assets for the test
                \(fixture.url(TestServerURL().gen(200_000).seed(71)))
                  out=first.bin
                  dir=sub/deeper
                  checksum=md5=\(md5)

                \(fixture.url("/echo"))
                \tout=echo-with.txt
                \theader=X-Entry: one
                \theader=X-Other:  two
                \(fixture.url("/echo?second"))
                  out=echo-without.txt
                \(fixture.url(TestServerURL().gen(3000).seed(72)))

                """
            try writeFile(fixture.file("urls.txt"), Array(list.utf8))
            let result = try await netget(engine.arguments + ["-q", "-H", "X-All: yes", "-i", "urls.txt"], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("sub/deeper/first.bin"), seed: 71, size: 200_000)
            expectGenerated(fixture.file("3000"), seed: 72, size: 3000)
            #expect(directoryEntries(fixture.directory) == ["3000", "echo-with.txt", "echo-without.txt", "sub", "urls.txt"])
            let with = String(decoding: try readFile(fixture.file("echo-with.txt")), as: UTF8.self)
            let without = String(decoding: try readFile(fixture.file("echo-without.txt")), as: UTF8.self)
            #expect(with.contains("X-Entry: one\n") && with.contains("X-Other: two\n"), "the entry's headers: \(with)")
            #expect(with.contains("X-All: yes\n"), "-H still goes with every URL: \(with)")
            #expect(!without.contains("X-Entry") && !without.contains("X-Other"), "another entry's header leaked: \(without)")
            #expect(without.contains("X-All: yes\n"))
        }
    }

    @Test(
        "-i - (standard input): a checksum= that fails in the middle of the list fails that entry alone (exit 3, its .part kept)",
        arguments: Engine.allCases)
    func checksumFailsInTheMiddle(engine: Engine) async throws {
        try await withFixture { fixture in
            let sha1 = try await DigestCase.all[0].expected(seed: 74, size: 150_000, in: fixture.directory)
            let sha512 = try await DigestCase.all[2].expected(seed: 75, size: 2 << 20, in: fixture.directory)
            let sha256 = try await expectedSHA256(seed: 73, size: 100_000, in: fixture.directory)
            let middle = fixture.url(TestServerURL().gen(150_000).seed(74))
            let list = """
                \(fixture.url(TestServerURL().gen(100_000).seed(73)))
                  checksum=sha-256=\(sha256)
                  out=a.bin
                \(middle)
                  out=b.bin
                  checksum=sha-1=\(almost(sha1))
                \(fixture.url(TestServerURL().gen(2 << 20).seed(75)))
                  checksum=sha-512=\(sha512)
                  out=c.bin

                """
            // -j 1: the middle entry fails before the last one starts, which must still run.
            let result = try await netget(
                engine.arguments + ["-j", "1", "-x", "2", "-i", "-"], in: fixture.directory, input: list)
            #expect(result.exitCode == 3, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            let line = result.errorLines.first ?? ""
            #expect(line.contains(middle) && line.contains("checksum mismatch") && line.contains("b.bin.part"), "\(line)")
            expectGenerated(fixture.file("a.bin"), seed: 73, size: 100_000)
            expectGenerated(fixture.file("b.bin.part"), seed: 74, size: 150_000)
            expectGenerated(fixture.file("c.bin"), seed: 75, size: 2 << 20)
            #expect(directoryEntries(fixture.directory) == ["a.bin", "b.bin.part", "b.bin.part.meta", "c.bin"])
        }
    }

    @Test("the plain form still works: one URL a line, CRLF line ends, comments, an indented URL", arguments: Engine.allCases)
    func plainList(engine: Engine) async throws {
        try await withFixture { fixture in
            let list =
                "# plain\r\n\(fixture.url(TestServerURL().gen(1000).seed(76)))\r\n\r\n   \(fixture.url(TestServerURL().gen(2000).seed(77)))\r\n"
            let result = try await netget(engine.arguments + ["-q", "-i", "-"], in: fixture.directory, input: list)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("1000"), seed: 76, size: 1000)
            expectGenerated(fixture.file("2000"), seed: 77, size: 2000)
        }
    }

    /// A list netget must refuse before any request: the line number and a phrase of the error.
    struct BadList: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let line: Int
        let phrase: String
        var testDescription: String { name }
    }

    static let badLists: [BadList] = [
        BadList(name: "option before any URL", text: "  out=x\nhttp://127.0.0.1:9/a\n", line: 1, phrase: "before any URL"),
        BadList(name: "unknown option", text: "http://127.0.0.1:9/a\n  out=x\n  split=4\n", line: 3, phrase: "unknown option \"split\""),
        BadList(name: "not key=value", text: "# c\nhttp://127.0.0.1:9/a\n\tjust words\n", line: 3, phrase: "key=value"),
        BadList(name: "empty out=", text: "http://127.0.0.1:9/a\n  out=\n", line: 2, phrase: "out= needs a value"),
        BadList(name: "out= twice", text: "http://127.0.0.1:9/a\n  out=x\n  out=y\n", line: 3, phrase: "out= given twice"),
        BadList(
            name: "bad checksum type", text: "http://127.0.0.1:9/a\n  checksum=crc32=00000000\n", line: 2, phrase: "unknown checksum type"),
        BadList(name: "short checksum", text: "http://127.0.0.1:9/a\n  checksum=sha-256=abc\n", line: 2, phrase: "64 hex digits, got 3"),
        BadList(name: "header without colon", text: "http://127.0.0.1:9/a\n  header=NoColon\n", line: 2, phrase: "header="),
        BadList(
            name: "tab-separated mirrors", text: "http://127.0.0.1:9/a\thttp://127.0.0.1:9/b\n", line: 1, phrase: "one URL a line"),
        BadList(name: "a space in a URL", text: "http://127.0.0.1:9/a b\n", line: 1, phrase: "no space"),
        BadList(name: "a bad URL", text: "http://127.0.0.1:9/a\n\nftp://127.0.0.1/b\n", line: 3, phrase: "unsupported scheme"),
    ]

    @Test("a bad list line is a usage error naming the line: exit 2, one line, nothing fetched", arguments: badLists)
    func badLine(bad: BadList) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let result = try await netget(["-i", "-"], in: directory, input: bad.text)
        #expect(result.exitCode == 2, "stderr: \(result.stderr)")
        expectCleanErrors(result, count: 1)
        let line = result.errorLines.first ?? ""
        #expect(line.contains("-i - line \(bad.line): ") && line.contains(bad.phrase), "stderr: \(result.stderr)")
        #expect(directoryEntries(directory).isEmpty)
    }

    @Test("out= and dir= conflict with -o")
    func outConflictsWithOutput() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let result = try await netget(["-o", "x.bin", "-i", "-"], in: directory, input: "http://127.0.0.1:9/a\n  out=y.bin\n")
        #expect(result.exitCode == 2, "stderr: \(result.stderr)")
        #expect(result.errorLines.first?.contains("line 2: out= conflicts with -o") == true, "stderr: \(result.stderr)")
    }
}
