import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built netget inside a bash pipeline, `netget ARGS | CONSUMER`, in `directory`, and
/// returns bash's status, which is netget's (`PIPESTATUS[0]`), with netget's standard error.
/// Standard output goes into a real pipe, as in a shell: `| cat > out.bin` keeps every byte
/// (ProcessOutput's strings are text), `| head -c 10 > head.out` closes it early. The shell
/// leaves SIGPIPE at its default, as the harness does for every child.
/// - Throws: `TestFailure` when netget is not built or bash cannot start.
func netgetPiped(_ arguments: [String], into consumer: String, in directory: String) async throws -> ProcessOutput {
    let executable = try netgetExecutable()
    await ProcessSlots.shared.acquire()
    let child: ChildProcess
    do {
        child = try ChildProcess(
            executable: "/bin/bash",
            arguments: ["-c", "\"$@\" | \(consumer); exit \"${PIPESTATUS[0]}\"", "netget", executable] + arguments,
            directory: directory, environment: netgetEnvironment(), timeout: .seconds(60))
    } catch {
        await ProcessSlots.shared.release()
        throw error
    }
    let output = await child.output()
    await ProcessSlots.shared.release()
    #expect(!output.timedOut, "netget \(arguments) | \(consumer) was killed after 60 s")
    return output
}

/// The bytes the server generates for each (seed, size), one after another.
func concatenated(_ parts: [(seed: UInt64, size: Int)]) -> [UInt8] {
    parts.flatMap { generatedBytes(seed: $0.seed, count: $0.size) }
}

/// `-o -`: the body on standard output, progress and errors on standard error, no .part; -x N
/// through the bounded reorder buffer; a reader that closes the pipe early; several URLs.
@Suite("netget -o - (standard output)")
struct NetgetStdoutTests {
    @Test(
        "-o - streams the exact bytes into a pipe and writes no file; -x 4 keeps them in order within --stdout-buffer",
        arguments: Engine.allCases, [1, 4])
    func streamsInOrder(engine: Engine, connections: Int) async throws {
        try await withFixture { fixture in
            let size = 6 << 20 + 777
            let result = try await netgetPiped(
                engine.arguments + [
                    "-x", "\(connections)", "--stdout-buffer", "1M", "-o", "-", fixture.url(TestServerURL().gen(size).seed(81)),
                ], into: "cat > out.bin", in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("out.bin"), seed: 81, size: UInt64(size))
            #expect(directoryEntries(fixture.directory) == ["out.bin"], "no .part, no .part.meta, no file named -")
            #expect(result.errorLines.isEmpty, "stderr: \(result.stderr)")
            let done = result.stderrLines.first { $0.contains("-> stdout: done") }
            #expect(done != nil, "the progress goes to standard error: \(result.stderr)")
            if connections > 1 {
                #expect(fixture.server.stats.requestsServed >= 2, "-x 4 fetched ranges")
                // "at most N bytes held out of order (--stdout-buffer 1048576)"
                let held = done.flatMap { $0.split(separator: "at most ").last?.split(separator: " ").first }.flatMap { Int($0) }
                #expect(held != nil && held! <= 1 << 20, "the reorder buffer stays within its bound: \(done ?? result.stderr)")
                #expect(done?.contains("(--stdout-buffer 1048576)") == true)
            }
        }
    }

    @Test(
        "a reader that closes the pipe early (| head -c 10): exit 23, one line naming the broken pipe, no crash, no file",
        arguments: Engine.allCases, [1, 4])
    func pipeClosesEarly(engine: Engine, connections: Int) async throws {
        try await withFixture { fixture in
            let result = try await netgetPiped(
                engine.arguments + ["-x", "\(connections)", "-o", "-", fixture.url(TestServerURL().gen(16 << 20).seed(82))],
                into: "head -c 10 > head.out", in: fixture.directory)
            #expect(result.exitCode == 23, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 1)
            #expect(result.errorLines.first?.contains("standard output was closed by its reader") == true, "stderr: \(result.stderr)")
            #expect(result.errorLines.first?.contains("broken pipe") == true)
            #expect(try readFile(fixture.file("head.out")) == generatedBytes(seed: 82, count: 10))
            #expect(directoryEntries(fixture.directory) == ["head.out"])
        }
    }

    @Test("several URLs with -o - are written one after another, in the order given", arguments: Engine.allCases)
    func severalURLsConcatenate(engine: Engine) async throws {
        try await withFixture { fixture in
            // The largest first: were they run at once, the small ones would come out first.
            let parts: [(seed: UInt64, size: Int)] = [(83, 3 << 20), (84, 1000), (85, 70000)]
            let result = try await netgetPiped(
                engine.arguments + ["-j", "8", "-o", "-"] + parts.map { fixture.url(TestServerURL().gen($0.size).seed($0.seed)) },
                into: "cat > all.bin", in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(try readFile(fixture.file("all.bin")) == concatenated(parts))
            #expect(directoryEntries(fixture.directory) == ["all.bin"])
        }
    }

    @Test(
        "with -o -, the first failure stops the URLs after it: exit 22 (its 404), the bytes before it, one line for the rest",
        arguments: Engine.allCases)
    func failureStopsTheRest(engine: Engine) async throws {
        try await withFixture { fixture in
            let result = try await netgetPiped(
                engine.arguments + [
                    "-o", "-", fixture.url(TestServerURL().gen(5000).seed(86)), fixture.url("/no/such/file"),
                    fixture.url(TestServerURL().gen(6000).seed(87)),
                ], into: "cat > all.bin", in: fixture.directory)
            #expect(result.exitCode == 22, "stderr: \(result.stderr)")
            expectCleanErrors(result, count: 2)
            #expect(result.errorLines.first?.contains("404") == true, "stderr: \(result.stderr)")
            #expect(result.errorLines.last?.contains("1 more URL(s) not fetched") == true, "stderr: \(result.stderr)")
            #expect(try readFile(fixture.file("all.bin")) == generatedBytes(seed: 86, count: 5000))
            #expect(fixture.server.stats.requestsServed == 2, "the third URL was not asked for")
        }
    }

    @Test(
        "--checksum with -o -: the bytes are hashed as they are written (exit 0), a mismatch is exit 3",
        arguments: Engine.allCases, [1, 4])
    func checksumOnStandardOutput(engine: Engine, connections: Int) async throws {
        try await withFixture { fixture in
            let size = 3 << 20 + 5
            let md5 = try await DigestCase.all[3].expected(seed: 88, size: size, in: fixture.directory)
            let url = fixture.url(TestServerURL().gen(size).seed(88))
            for (expected, status) in [(md5, Int32(0)), (almost(md5), Int32(3))] {
                let result = try await netgetPiped(
                    engine.arguments + [
                        "-x", "\(connections)", "--stdout-buffer", "512K", "--checksum", "md5=\(expected)", "-o", "-", url,
                    ],
                    into: "cat > out.bin", in: fixture.directory)
                #expect(result.exitCode == status, "stderr: \(result.stderr)")
                expectGenerated(fixture.file("out.bin"), seed: 88, size: UInt64(size))
                if status != 0 {
                    expectCleanErrors(result, count: 1)
                    #expect(result.errorLines.first?.contains("checksum mismatch") == true, "stderr: \(result.stderr)")
                }
            }
            #expect(directoryEntries(fixture.directory) == ["out.bin"])
        }
    }

    @Test(
        "Ctrl-C while standard output's reader reads nothing (netget blocked in write): exit 130 at once, one line",
        arguments: Engine.allCases)
    func interruptWhileBlocked(engine: Engine) async throws {
        try await withFixture { fixture in
            let executable = try netgetExecutable()
            await ProcessSlots.shared.acquire()
            // Standard output is a FIFO whose only reader is netget's own descriptor 3, which
            // nothing reads: after 64 KiB every write blocks. `exec` makes the child's pid netget's.
            let child: ChildProcess
            do {
                child = try ChildProcess(
                    executable: "/bin/bash",
                    arguments: [
                        "-c", "mkfifo stuck && exec 3<>stuck && exec \"$@\" > stuck", "netget", executable,
                    ] + engine.arguments + ["-x", "4", "-o", "-", fixture.url(TestServerURL().gen(32 << 20).seed(90))],
                    directory: fixture.directory, environment: netgetEnvironment(), timeout: .seconds(60))
            } catch {
                await ProcessSlots.shared.release()
                throw error
            }
            // Once the body flows, a moment for the FIFO to fill (it blocks within milliseconds).
            let pressed = await pressCtrlC(child, after: .milliseconds(300)) { fixture.server.stats.requestsServed >= 1 }
            let output = await child.output()
            await ProcessSlots.shared.release()
            try #require(pressed != nil, "the download never started")
            #expect(output.exitCode == 130, "stderr: \(output.stderr)")
            expectCleanErrors(output, count: 1)
            #expect(output.errorLines.first?.contains("interrupted") == true, "stderr: \(output.stderr)")
            // Without the fix netget waited to join the worker stuck in write(2): until the timeout.
            #expect(output.endedAt - (pressed ?? output.endedAt) < .seconds(10), "netget took \(output.endedAt - pressed!) to stop")
        }
    }

    @Test(
        "a reset mid-body with -o - is resumed by a range, the bytes before it compared with the kept tail (no validators)",
        arguments: Engine.allCases)
    func resetIsResumed(engine: Engine) async throws {
        try await withFixture { fixture in
            let size = 900_000
            let url = fixture.url(TestServerURL().gen(size).seed(89).validators(false).fault(.reset(at: 300_000)).once("stdout-reset"))
            let result = try await netgetPiped(
                engine.arguments + ["--retry-delay", "0.01", "-q", "-o", "-", url],
                into: "cat > out.bin", in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("out.bin"), seed: 89, size: UInt64(size))
            #expect(fixture.server.stats.requestsServed == 2, "one reset, one resume")
        }
    }
}
