import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A server never picks a file that replaces one of the user's, nor a name that hides or
/// escapes; the user's own -o may replace; a planted link is never written through.
@Suite("netget file safety")
struct NetgetFileSafetyTests {
    @Test("without -o, a name that is taken on disk gets .1, .2 (the user's files stay as they were)", arguments: Engine.allCases)
    func takenNamesGetSuffixes(engine: Engine) async throws {
        try await withFixture { fixture in
            let mine = Array("the user's own file\n".utf8)
            try writeFile(fixture.file("data.bin"), mine)
            try writeFile(fixture.file("data.bin.1"), mine)
            let result = try await netget(
                engine.arguments + [fixture.url(TestServerURL().gen(5000).seed(91).name("data.bin"))], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(try readFile(fixture.file("data.bin")) == mine)
            #expect(try readFile(fixture.file("data.bin.1")) == mine)
            expectGenerated(fixture.file("data.bin.2"), seed: 91, size: 5000)
        }
    }

    @Test(
        "hostile Content-Disposition names are cleaned and never replace a dot file",
        arguments: [
            ("attachment; filename=\" .bashrc\"", "bashrc"),
            ("attachment; filename=\". .ssh\"", "ssh"),
            ("attachment; filename=\"../../x.txt\"", "x.txt"),
            ("attachment; filename=\"a\u{202E}txt.exe\"", "atxt.exe"),
        ])
    func hostileNames(disposition: String, expected: String) async throws {
        try await withFixture { fixture in
            let dotfile = Array("export KEEP=1\n".utf8)
            try writeFile(fixture.file(".bashrc"), dotfile)
            let url = fixture.url(TestServerURL().gen(3000).seed(92).query("disposition", percentEncoded(disposition)))
            let result = try await netget([url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file(expected), seed: 92, size: 3000)
            #expect(try readFile(fixture.file(".bashrc")) == dotfile)
            #expect(directoryEntries(fixture.directory) == [".bashrc", expected].sorted())
        }
    }

    @Test("-o PATH replaces PATH (the user named it)", arguments: Engine.allCases)
    func outputReplaces(engine: Engine) async throws {
        try await withFixture { fixture in
            try writeFile(fixture.file("o.bin"), Array("old".utf8))
            let result = try await netget(engine.arguments + ["-o", "o.bin", fixture.url("/gen/4000?seed=93")], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("o.bin"), seed: 93, size: 4000)
            #expect(directoryEntries(fixture.directory) == ["o.bin"])
        }
    }

    @Test(
        "--no-clobber skips an existing file with exit 0 and a message: with -o, a URL name, and a server's name",
        arguments: ["-o", "url", "disposition"])
    func noClobber(naming: String) async throws {
        try await withFixture { fixture in
            let mine = Array("keep me".utf8)
            // The URL's last segment is the name when neither -o nor the server gives one.
            let name = naming == "url" ? "4000" : "n.bin"
            try writeFile(fixture.file(name), mine)
            let arguments: [String]
            switch naming {
            case "-o": arguments = ["-o", "n.bin", fixture.url("/gen/4000?seed=94")]
            case "url": arguments = [fixture.url("/gen/4000?seed=94")]
            default: arguments = [fixture.url(TestServerURL().gen(4000).seed(94).name("n.bin"))]
            }
            let result = try await netget(["--no-clobber"] + arguments, in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("\(name) exists; skipped (--no-clobber)"), "stderr: \(result.stderr)")
            #expect(try readFile(fixture.file(name)) == mine)
            #expect(directoryEntries(fixture.directory) == [name])
        }
    }

    @Test("a symbolic link planted at PATH.part is refused, never written through", arguments: [false, true])
    func symlinkAtPart(resume: Bool) async throws {
        try await withFixture { fixture in
            let victim = fixture.file("victim")
            let original = Array("precious\n".utf8)
            try writeFile(victim, original)
            #expect(symlink(victim, fixture.file("l.bin.part")) == 0)
            let result = try await netget(
                (resume ? ["-c"] : []) + ["-o", "l.bin", fixture.url("/gen/4000?seed=95")], in: fixture.directory)
            #expect(result.exitCode == 73, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(result.stderr.contains("symbolic link"), "stderr: \(result.stderr)")
            #expect(try readFile(victim) == original)
            #expect(!fileExists(fixture.file("l.bin")))
        }
    }

    @Test("the file's mode comes from the umask (0666 less it), as for any new file")
    func modeFromUmask() async throws {
        try await withFixture { fixture in
            let netgetPath = try netgetExecutable()
            let result = try await runTool(
                "/bin/sh",
                [
                    "-c", "umask 027 && exec \"$0\" -q -o u.bin \"$1\"", netgetPath,
                    fixture.url("/gen/1000?seed=96"),
                ], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            var info = stat()
            #expect(stat(fixture.file("u.bin"), &info) == 0)
            #expect(info.st_mode & 0o777 == 0o640, "mode \(String(info.st_mode & 0o777, radix: 8))")
        }
    }
}
