import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Config files (issue 15 point 4): the default one under XDG_CONFIG_HOME (else HOME),
/// `--config FILE`, `--no-config`, the command line winning, and bad lines named.
@Suite("netget config files")
struct NetgetConfigTests {
    /// Writes `text` to `directory/relative`, making the directories on the way.
    static func write(_ text: String, to relative: String, in directory: String) throws -> String {
        var path = directory
        for component in relative.split(separator: "/").dropLast() {
            path += "/" + component
            mkdir(path, 0o755)
        }
        let file = directory + "/" + relative
        try writeFile(file, Array(text.utf8))
        return file
    }

    @Test("the default config file (XDG_CONFIG_HOME) applies: quoted values, comments, several options a line", arguments: Engine.allCases)
    func xdgDefault(engine: Engine) async throws {
        try await withFixture { fixture in
            _ = try Self.write(
                """
                # netget's options for every run
                -o 'from config.txt'   # a comment after an option
                -H "X-From-Config: a \\"quoted\\" value"   --retries 1

                --header=X-Second:\\ two
                """, to: "xdg/netget/config", in: fixture.directory)
            let result = try await netget(
                engine.arguments + [fixture.url("/echo")], in: fixture.directory,
                environment: ["XDG_CONFIG_HOME=\(fixture.directory)/xdg"])
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let echoed = String(decoding: try readFile(fixture.file("from config.txt")), as: UTF8.self)
            #expect(echoed.contains("X-From-Config: a \"quoted\" value"), "echo: \(echoed)")
            #expect(echoed.contains("X-Second: two"), "echo: \(echoed)")
        }
    }

    @Test("without XDG_CONFIG_HOME, ~/.config/netget/config; --no-config skips it", arguments: Engine.allCases)
    func homeDefaultAndNoConfig(engine: Engine) async throws {
        try await withFixture { fixture in
            _ = try Self.write("-o from-home.bin\n", to: "home/.config/netget/config", in: fixture.directory)
            let environment = ["XDG_CONFIG_HOME=", "HOME=\(fixture.directory)/home"]
            let url = fixture.url(TestServerURL().gen(1000).seed(4))
            let first = try await netget(engine.arguments + [url], in: fixture.directory, environment: environment)
            #expect(first.exitCode == 0, "stderr: \(first.stderr)")
            expectGenerated(fixture.file("from-home.bin"), seed: 4, size: 1000)
            let second = try await netget(engine.arguments + ["--no-config", url], in: fixture.directory, environment: environment)
            #expect(second.exitCode == 0, "stderr: \(second.stderr)")
            // The URL's own name: the config's -o was not read.
            expectGenerated(fixture.file("1000"), seed: 4, size: 1000)
        }
    }

    @Test("--config FILE adds one after the default; the command line wins over both", arguments: Engine.allCases)
    func explicitAndOverride(engine: Engine) async throws {
        try await withFixture { fixture in
            _ = try Self.write("-o default.bin\n-q\n", to: "xdg/netget/config", in: fixture.directory)
            let extra = try Self.write("-o extra.bin\n", to: "extra.conf", in: fixture.directory)
            let environment = ["XDG_CONFIG_HOME=\(fixture.directory)/xdg"]
            let url = fixture.url(TestServerURL().gen(2000).seed(5))
            // The later file's -o wins over the default file's; -q from the default file holds.
            let fromFile = try await netget(engine.arguments + ["--config", extra, url], in: fixture.directory, environment: environment)
            #expect(fromFile.exitCode == 0, "stderr: \(fromFile.stderr)")
            expectGenerated(fixture.file("extra.bin"), seed: 5, size: 2000)
            #expect(!fileExists(fixture.file("default.bin")))
            #expect(fromFile.stderr.isEmpty, "-q from the config file: \(fromFile.stderr)")
            // The command line's -o and --no-quiet win over both files.
            let overridden = try await netget(
                engine.arguments + ["--config", extra, "-o", "cli.bin", "--no-quiet", url], in: fixture.directory, environment: environment)
            #expect(overridden.exitCode == 0, "stderr: \(overridden.stderr)")
            expectGenerated(fixture.file("cli.bin"), seed: 5, size: 2000)
            #expect(overridden.stderr.contains("done"), "--no-quiet undoes the config's -q: \(overridden.stderr)")
        }
    }

    struct BadConfig: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let line: Int
        let phrase: String
        var testDescription: String { name }
    }

    static let badConfigs: [BadConfig] = [
        BadConfig(name: "unknown option", text: "-q\n\n--bogus 3\n", line: 3, phrase: "--bogus"),
        BadConfig(name: "missing value", text: "# c\n--retries\n", line: 2, phrase: "--retries"),
        BadConfig(name: "a URL", text: "http://127.0.0.1:9/a\n", line: 1, phrase: "not an option"),
        BadConfig(name: "a URL after an option", text: "-q http://127.0.0.1:9/a\n", line: 1, phrase: "not an option"),
        BadConfig(name: "unclosed quote", text: "-o 'a b\n", line: 1, phrase: "not closed"),
        BadConfig(name: "nested --config", text: "--config other\n", line: 1, phrase: "command line only"),
    ]

    @Test("a bad config line is a usage error (exit 2) naming the file and the line", arguments: badConfigs)
    func badLine(config: BadConfig) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let file = try Self.write(config.text, to: "bad.conf", in: directory)
        let result = try await netget(["--config", file, "http://127.0.0.1:9/a"], in: directory)
        #expect(result.exitCode == 2, "stderr: \(result.stderr)")
        expectCleanErrors(result, count: 1)
        let line = result.errorLines.first ?? ""
        #expect(line.contains("config file \(file) line \(config.line):"), "stderr: \(result.stderr)")
        #expect(line.contains(config.phrase), "stderr: \(result.stderr)")
        #expect(directoryEntries(directory) == ["bad.conf"])
    }

    @Test("a missing --config FILE is a usage error (a missing default file is not: every other test has none)")
    func missingFiles() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let result = try await netget(["--config", "no-such.conf", "http://127.0.0.1:9/a"], in: directory)
        #expect(result.exitCode == 2, "stderr: \(result.stderr)")
        #expect(result.errorLines.first?.contains("config file no-such.conf") == true, "stderr: \(result.stderr)")
    }
}
