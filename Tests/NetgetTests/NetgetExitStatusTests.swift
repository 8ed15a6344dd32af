import HTTPTestServer
import NetTLS
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Exit statuses that name the cause (issue 15 point 9), each produced for real, on both engines.
@Suite("netget exit statuses")
struct NetgetExitStatusTests {
    /// One cause, how to produce it, and the status it must give.
    struct Cause: Sendable, CustomTestStringConvertible {
        let name: String
        let status: Int32
        /// The arguments after the engine's, from the fixture.
        let arguments: @Sendable (Fixture) throws -> [String]
        var testDescription: String { "\(name) -> \(status)" }
    }

    static let causes: [Cause] = [
        Cause(name: "success", status: 0) { [$0.url(TestServerURL().gen(1000).seed(1))] },
        // glibc refuses an empty label at once: no DNS query leaves the machine.
        Cause(name: "name resolution", status: 6) { _ in ["http://a..b:9/x"] },
        Cause(name: "connection refused", status: 7) { _ in ["http://127.0.0.1:9/x"] },
        Cause(name: "connection closed before the body's end", status: 7) {
            [$0.url(TestServerURL().gen(50000).seed(2).fault(.close(at: 20000)))]
        },
        // https to a plain HTTP server: the handshake fails.
        Cause(name: "TLS", status: 35) { fixture in
            [fixture.url(TestServerURL().gen(1000)).replacingPrefix("http://", with: "https://")]
        },
        Cause(name: "HTTP 404", status: 22) { [$0.url("/status/404")] },
        Cause(name: "HTTP 500 after the retries", status: 22) { [$0.url("/status/500")] },
        Cause(name: "idle timeout", status: 28) {
            ["--timeout", "0.3", $0.url(TestServerURL().gen(100000).seed(3).fault(.stall(at: 1000, ms: 3000)))]
        },
        Cause(name: "--max-time", status: 28) {
            ["--max-time", "0.5", $0.url(TestServerURL().gen(100000).seed(8).fault(.stall(at: 1000, ms: 3000)))]
        },
        Cause(name: "--max-filesize", status: 63) { ["--max-filesize", "100", $0.url(TestServerURL().gen(1000).seed(9))] },
        Cause(name: "the disk (the directory is a file)", status: 23) { fixture in
            try writeFile(fixture.file("blocker"), [1])
            return ["-o", "blocker/out.bin", fixture.url(TestServerURL().gen(1000))]
        },
        Cause(name: "refused overwrite (PATH.part is a symbolic link)", status: 73) { fixture in
            try writeFile(fixture.file("victim"), [1])
            _ = symlink(fixture.file("victim"), fixture.file("l.bin.part"))
            return ["-o", "l.bin", fixture.url(TestServerURL().gen(1000))]
        },
        Cause(name: "checksum", status: 3) {
            ["--checksum", "md5=" + String(repeating: "0", count: 32), "-o", "c.bin", $0.url(TestServerURL().gen(1000))]
        },
        Cause(name: "other: a redirect loop", status: 1) { [$0.url("/redirect-loop")] },
        Cause(name: "usage", status: 2) { _ in ["--retries", "many", "http://127.0.0.1:9/x"] },
        // Several URLs: the first that failed in input order, not the first to fail in time
        // (the refused connection fails long before the stall times out).
        Cause(name: "several URLs: the first failure in input order", status: 28) { fixture in
            [
                "--timeout", "0.5", "-j", "4", fixture.url(TestServerURL().gen(1000).seed(4)),
                fixture.url(TestServerURL().gen(100000).seed(5).fault(.stall(at: 1000, ms: 3000))), fixture.url("/status/404"),
                "http://127.0.0.1:9/x",
            ]
        },
    ]

    @Test("each cause exits with its own status", arguments: Engine.allCases, causes)
    func status(engine: Engine, cause: Cause) async throws {
        try await withFixture { fixture in
            let arguments = try cause.arguments(fixture)
            let result = try await netget(
                engine.arguments + ["--retries", "0", "-q"] + arguments, in: fixture.directory, timeout: .seconds(30))
            #expect(result.exitCode == cause.status, "\(arguments): stderr: \(result.stderr)")
            expectNoCrashReport(result)
        }
    }

    @Test("TLS: an untrusted certificate is 35 too; with --cacert the download succeeds", arguments: Engine.allCases)
    func untrustedCertificate(engine: Engine) async throws {
        try await withFixture { fixture in
            let (certificate, key) = try TestCertificate.generate(inDirectory: fixture.directory + "/tls")
            let secure = try TestHTTPServer.start(.init(tls: TLSContext.server(certificateFile: certificate, privateKeyFile: key)))
            defer { secure.stop() }
            let url = "\(secure.baseURL)/gen/1000?seed=7"
            let untrusted = try await netget(engine.arguments + ["--retries", "0", "-q", "-o", "t.bin", url], in: fixture.directory)
            #expect(untrusted.exitCode == 35, "stderr: \(untrusted.stderr)")
            let trusted = try await netget(
                engine.arguments + ["--retries", "0", "-q", "--cacert", certificate, "-o", "t.bin", url], in: fixture.directory)
            #expect(trusted.exitCode == 0, "stderr: \(trusted.stderr)")
        }
    }

    @Test("--help prints the exit-status table, every code once")
    func helpTable() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let help = try await netget(["--help"], in: directory)
        #expect(help.exitCode == 0)
        let section = help.stdout.components(after: "EXIT STATUS")
        for code in [0, 1, 2, 3, 6, 7, 22, 23, 28, 35, 63, 73, 90, 130] {
            let rows = section.split(separator: "\n").filter { $0.trimmingLeadingSpaces.hasPrefix("\(code) ") }
            #expect(rows.count == 1, "exit \(code) in --help: \(rows)")
        }
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }

    /// The text after the first `marker` (empty when it is not there).
    func components(after marker: String) -> String {
        guard let range = firstRange(of: marker) else { return "" }
        return String(self[range.upperBound...])
    }
}

extension Substring {
    var trimmingLeadingSpaces: Substring { drop { $0 == " " } }
}
