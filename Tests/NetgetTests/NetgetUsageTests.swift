import Testing

/// Command lines netget must refuse before any network traffic: exit 2 and one error line.
@Suite("netget usage errors")
struct NetgetUsageTests {
    /// A command line to refuse, and a phrase its error line must contain.
    struct BadUsage: Sendable, CustomTestStringConvertible {
        let name: String
        let arguments: [String]
        let phrase: String
        var testDescription: String { name }
    }

    /// Nothing listens on port 9 of 127.0.0.1 (discard); none of these may connect anyway.
    static let unused = "http://127.0.0.1:9"

    static let cases: [BadUsage] = [
        BadUsage(name: "not a URL", arguments: ["not a url"], phrase: "not an absolute URL"),
        BadUsage(name: "ftp scheme", arguments: ["ftp://example.com/file"], phrase: "unsupported scheme"),
        BadUsage(name: "control character", arguments: ["\(unused)/a\u{01}b"], phrase: "control character"),
        BadUsage(name: "newline in URL", arguments: ["\(unused)/a\nb"], phrase: "control character"),
        BadUsage(name: "no host", arguments: ["http:///path"], phrase: "no host"),
        BadUsage(name: "no URL", arguments: [], phrase: "no URL"),
        BadUsage(name: "-o with two URLs", arguments: ["-o", "x", "\(unused)/a", "\(unused)/b"], phrase: "-o"),
        BadUsage(name: "--sha256 not hex", arguments: ["--sha256", String(repeating: "z", count: 64), "\(unused)/a"], phrase: "--sha256"),
        BadUsage(name: "--sha256 too short", arguments: ["--sha256", "abcd", "\(unused)/a"], phrase: "64 hex digits"),
        BadUsage(name: "-x 0", arguments: ["-x", "0", "\(unused)/a"], phrase: "-x"),
        BadUsage(name: "-j 0", arguments: ["-j", "0", "\(unused)/a"], phrase: "-j"),
        BadUsage(name: "unknown engine", arguments: ["--engine", "threads", "\(unused)/a"], phrase: "--engine"),
        BadUsage(name: "bad rate", arguments: ["--limit-rate", "fast", "\(unused)/a"], phrase: "--limit-rate"),
        BadUsage(name: "bad header", arguments: ["-H", "NoColon", "\(unused)/a"], phrase: "-H"),
        BadUsage(name: "unknown option", arguments: ["--bogus", "\(unused)/a"], phrase: "--bogus"),
        BadUsage(name: "option without value", arguments: ["\(unused)/a", "--retries"], phrase: "--retries"),
        BadUsage(name: "missing -i file", arguments: ["-i", "no-such-list.txt"], phrase: "no-such-list.txt"),
        BadUsage(name: "-4 and -6", arguments: ["-4", "-6", "\(unused)/a"], phrase: "-4 and -6 conflict"),
        BadUsage(name: "-u without a colon", arguments: ["-u", "alice", "\(unused)/a"], phrase: "USER:PASSWORD"),
        BadUsage(name: "--netrc-file missing", arguments: ["--netrc-file", "no-such-netrc", "\(unused)/a"], phrase: "no-such-netrc"),
        BadUsage(name: "-o - with -c", arguments: ["-o", "-", "-c", "\(unused)/a"], phrase: "-c cannot continue standard output"),
        BadUsage(name: "-o - with --json", arguments: ["-o", "-", "--json", "\(unused)/a"], phrase: "--json"),
        BadUsage(name: "-o - with --no-clobber", arguments: ["-o", "-", "--no-clobber", "\(unused)/a"], phrase: "--no-clobber"),
        BadUsage(
            name: "--stdout-buffer too small", arguments: ["-o", "-", "--stdout-buffer", "1K", "\(unused)/a"], phrase: "--stdout-buffer"),
        BadUsage(
            name: "--checksum unknown type", arguments: ["--checksum", "sha-3=00", "\(unused)/a"], phrase: "unknown checksum type \"sha-3\""
        ),
        BadUsage(
            name: "--checksum wrong length", arguments: ["--checksum", "md5=abcd", "\(unused)/a"],
            phrase: "md5 digest is 32 hex digits, got 4"),
        BadUsage(
            name: "--checksum not hex", arguments: ["--checksum", "sha-1=" + String(repeating: "g", count: 40), "\(unused)/a"],
            phrase: "hex digits (0-9, a-f)"),
        BadUsage(name: "--checksum without TYPE=", arguments: ["--checksum", "abcdef", "\(unused)/a"], phrase: "TYPE=HEX"),
        BadUsage(
            name: "--checksum and --sha256",
            arguments: [
                "--checksum", "md5=" + String(repeating: "0", count: 32), "--sha256", String(repeating: "0", count: 64), "\(unused)/a",
            ],
            phrase: "conflict"),
        BadUsage(
            name: "--checksum with two URLs",
            arguments: ["--checksum", "md5=" + String(repeating: "0", count: 32), "\(unused)/a", "\(unused)/b"],
            phrase: "checksum="),
    ]

    @Test("a bad command line exits 2 with one error line and touches nothing", arguments: cases)
    func usageError(usage: BadUsage) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let result = try await netget(usage.arguments, in: directory)
        #expect(result.exitCode == 2, "stderr: \(result.stderr)")
        expectCleanErrors(result, count: 1)
        #expect(result.errorLines.first?.contains(usage.phrase) == true, "stderr: \(result.stderr)")
        // Besides the error, at most the hint that points to --help.
        for line in result.stderrLines where !line.hasPrefix("netget: ") {
            #expect(line == "(netget --help shows the options)", "unexpected stderr line: \(line)")
        }
        #expect(result.stdout.isEmpty)
        #expect(directoryEntries(directory).isEmpty)
    }

    @Test("--help and --version exit 0 and print on stdout")
    func helpAndVersion() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let help = try await netget(["--help"], in: directory)
        #expect(help.exitCode == 0)
        #expect(help.stdout.contains("EXIT STATUS"))
        #expect(help.stderr.isEmpty)
        let version = try await netget(["--version"], in: directory)
        #expect(version.exitCode == 0)
        #expect(version.stdout.hasPrefix("netget "))
    }
}
