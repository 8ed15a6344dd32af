import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// netget's -u, -n/--netrc-file, URL credentials and --compressed (issues 14 and 15).
@Suite("netget credentials and compression")
struct NetgetAuthAndCodingTests {
    /// A URL on `fixture` that answers 401 without Basic alice:s3cr%t.
    func protected(_ fixture: Fixture, seed: Int, size: String = "4m", credentials: String = "") -> String {
        let base = credentials.isEmpty ? fixture.server.baseURL : fixture.server.baseURL.replacingOnce("://", with: "://\(credentials)@")
        return base + "/gen/\(size)?seed=\(seed)&auth=alice:s3cr%25t"
    }

    @Test("-u opens a protected URL on every segment; without it, a 401 is the error", arguments: Engine.allCases)
    func userOption(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = protected(fixture, seed: 31)
            let refused = try await netget(engine.arguments + ["-o", "no.bin", url], in: fixture.directory)
            #expect(refused.exitCode != 0)
            #expect(refused.stderr.contains("401"), "stderr: \(refused.stderr)")
            let result = try await netget(engine.arguments + ["-u", "alice:s3cr%t", "-x", "4", "-o", "a.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("a.bin"), seed: 31, size: 4 << 20)
        }
    }

    @Test("credentials in the URL, and from --netrc-file")
    func urlAndNetrc() async throws {
        try await withFixture { fixture in
            let withUserinfo = protected(fixture, seed: 32, credentials: "alice:s3cr%25t")
            let inURL = try await netget(["-o", "u.bin", withUserinfo], in: fixture.directory)
            #expect(inURL.exitCode == 0, "stderr: \(inURL.stderr)")
            expectGenerated(fixture.file("u.bin"), seed: 32, size: 4 << 20)
            let netrcPath = fixture.file("netrc")
            try writeFile(netrcPath, Array("machine 127.0.0.1\n  login alice\n  password \"s3cr%t\"\n".utf8))
            let fromNetrc = try await netget(
                ["--netrc-file", netrcPath, "-o", "n.bin", protected(fixture, seed: 33)], in: fixture.directory)
            #expect(fromNetrc.exitCode == 0, "stderr: \(fromNetrc.stderr)")
            expectGenerated(fixture.file("n.bin"), seed: 33, size: 4 << 20)
            try writeFile(netrcPath, Array("machine 127.0.0.1 login\n".utf8))
            let broken = try await netget(["--netrc-file", netrcPath, "-o", "b.bin", protected(fixture, seed: 33)], in: fixture.directory)
            #expect(broken.exitCode == 2 && broken.stderr.contains(".netrc line 2"), "stderr: \(broken.stderr)")
        }
    }

    @Test("-4 reaches a name over IPv4 (localhost); -6 finds no IPv6 address the server listens on")
    func addressFamilies() async throws {
        try await withFixture { fixture in
            let url = "http://localhost:\(fixture.server.port)/gen/100000?seed=35"
            let v4 = try await netget(["-4", "-o", "v4.bin", url], in: fixture.directory)
            #expect(v4.exitCode == 0, "stderr: \(v4.stderr)")
            expectGenerated(fixture.file("v4.bin"), seed: 35, size: 100_000)
            // The test server listens on 127.0.0.1 only: over IPv6 there is nothing to reach.
            let v6 = try await netget(["-6", "--retries", "0", "-o", "v6.bin", url], in: fixture.directory)
            #expect(v6.exitCode != 0)
            #expect(!fileExists(fixture.file("v6.bin")))
        }
    }

    @Test("--compressed saves the decoded bytes; without it the body is saved as sent", arguments: Engine.allCases)
    func compressed(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url("/encoded/3000000?encoding=br&seed=34")
            let decoded = try await netget(engine.arguments + ["--compressed", "-x", "4", "-o", "d.bin", url], in: fixture.directory)
            #expect(decoded.exitCode == 0, "stderr: \(decoded.stderr)")
            expectGenerated(fixture.file("d.bin"), seed: 34, size: 3_000_000)
            let raw = try await netget(engine.arguments + ["-o", "r.bin", url], in: fixture.directory)
            #expect(raw.exitCode == 0)
            #expect(fileSize(fixture.file("r.bin")) != 3_000_000, "not decoded without --compressed")
        }
    }
}

extension String {
    fileprivate func replacingOnce(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }
}
