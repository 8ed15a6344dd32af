import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Presses Ctrl-C (sends SIGINT to `child`) as soon as `ready()` holds, then `after` more,
/// checking every 5 ms for at most `limit`.
///
/// Watched from a plain thread: when the whole suite runs, a test's async code can wait
/// seconds for a cooperative thread, and a signal sent that late finds the download it was
/// meant to interrupt already over (seen: exit 0 instead of 130).
/// - Returns: when the signal went, or nil if `ready()` never held (nothing was sent).
func pressCtrlC(
    _ child: ChildProcess, after delay: Duration = .zero, limit: Duration = .seconds(20),
    when ready: @escaping @Sendable () -> Bool
) async -> ContinuousClock.Instant? {
    await withCheckedContinuation { continuation in
        do {
            let thread = try OSThreads.start {
                let deadline = ContinuousClock.now + limit
                while !ready() && ContinuousClock.now < deadline { usleep(5_000) }
                guard ready() else { return continuation.resume(returning: nil) }
                let (seconds, attoseconds) = delay.components
                usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
                let pressed = ContinuousClock.now
                child.send(SIGINT)
                continuation.resume(returning: pressed)
            }
            pthread_detach(thread)
        } catch {
            continuation.resume(returning: nil)
        }
    }
}

/// Ctrl-C (SIGINT) in the middle of a download, and `-c` afterwards.
@Suite("netget interrupt")
struct NetgetInterruptTests {
    @Test("Ctrl-C: exit 130, PATH.part kept, no PATH; then -c finishes it from where it stopped", arguments: Engine.allCases)
    func interruptThenContinue(engine: Engine) async throws {
        try await withFixture { fixture in
            let size = 20_000_000
            // Dripped the first time only (once=): -c must name the same URL, or it starts over.
            let url = fixture.url(TestServerURL().gen(size).seed(61).fault(.drip(rate: 1_000_000)).once("first"))
            let child = try await startNetget(engine.arguments + ["-o", "big.bin", url], in: fixture.directory)
            // Press Ctrl-C once some bytes are on disk.
            let part = fixture.file("big.bin.part")
            #expect(await pressCtrlC(child) { (fileSize(part) ?? 0) >= 50_000 } != nil)
            let interrupted = await finish(child)
            #expect(interrupted.exitCode == 130, "stderr: \(interrupted.stderr)")
            expectCleanErrors(interrupted, count: 1)
            #expect(interrupted.errorLines.first?.contains("interrupted") == true, "stderr: \(interrupted.stderr)")
            #expect(!fileExists(fixture.file("big.bin")))
            let kept = fileSize(fixture.file("big.bin.part")) ?? 0
            #expect(kept > 0 && kept < UInt64(size), "big.bin.part has \(kept) bytes")
            #expect(fileExists(fixture.file("big.bin.part.meta")))

            // The same URL, served fast now.
            let resumed = try await netget(engine.arguments + ["-c", "--json", "-o", "big.bin", url], in: fixture.directory)
            #expect(resumed.exitCode == 0, "stderr: \(resumed.stderr)")
            let summary = jsonSummaries(resumed).first
            #expect((summary?["resumed-from"]?.number ?? 0) > 0, "stdout: \(resumed.stdout)")
            #expect(summary?["bytes"]?.number == Double(size))
            expectGenerated(fixture.file("big.bin"), seed: 61, size: UInt64(size))
            #expect(directoryEntries(fixture.directory) == ["big.bin"])
        }
    }

    @Test("Ctrl-C while the server sends nothing (a long stall) ends netget at once", arguments: Engine.allCases)
    func interruptDuringStall(engine: Engine) async throws {
        try await withFixture { fixture in
            let child = try await startNetget(
                engine.arguments + [
                    "--timeout", "30", "-o", "st.bin",
                    fixture.url(TestServerURL().gen(100000).seed(62).fault(.stall(at: 1000, ms: 8000))),
                ],
                in: fixture.directory)
            // The server answers at once and stalls after 1000 bytes; the data may sit in a write
            // buffer, so wait for the request (not the disk), then a little more: well into the stall.
            let server = fixture.server
            let pressed = await pressCtrlC(child, after: .milliseconds(300)) { server.stats.requestsServed >= 1 }
            let result = await finish(child)
            #expect(result.exitCode == 130, "stderr: \(result.stderr)")
            if let pressed {
                let reaction = result.endedAt - pressed
                #expect(reaction < .seconds(2), "netget took \(reaction) to stop after SIGINT (the stall lasts 8 s)")
            } else {
                Issue.record("the request never reached the server")
            }
            expectCleanErrors(result, count: 1)
            #expect(!fileExists(fixture.file("st.bin")))
            #expect(fileSize(fixture.file("st.bin.part")) == 1000, "the 1000 bytes received before the stall are kept")
        }
    }

    @Test("Ctrl-C during a 4-segment download, then -c fills every gap", arguments: Engine.allCases)
    func interruptSegmentedThenContinue(engine: Engine) async throws {
        try await withFixture { fixture in
            let size: UInt64 = 8 << 20
            let url = fixture.url("/gen/\(size)?seed=63")
            let child = try await startNetget(
                engine.arguments + ["-x", "4", "--limit-rate", "2M", "-o", "sx.bin", url],
                in: fixture.directory)
            // The file grows to the last segment's offset once that segment writes: all four are running.
            let part = fixture.file("sx.bin.part")
            #expect(await pressCtrlC(child) { (fileSize(part) ?? 0) >= size / 4 * 3 + 100_000 } != nil)
            let interrupted = await finish(child)
            #expect(interrupted.exitCode == 130, "stderr: \(interrupted.stderr)")
            expectCleanErrors(interrupted, count: 1)
            let meta = String(decoding: (try? readFile(fixture.file("sx.bin.part.meta"))) ?? [], as: UTF8.self)
            let gaps = meta.split(separator: "\n").filter { $0.hasPrefix("missing ") }
            #expect(gaps.count >= 2, "the meta should list the gap of each segment: \(meta)")

            let resumed = try await netget(engine.arguments + ["-c", "--json", "-o", "sx.bin", url], in: fixture.directory)
            #expect(resumed.exitCode == 0, "stderr: \(resumed.stderr)")
            #expect((jsonSummaries(resumed).first?["resumed-from"]?.number ?? 0) > 0, "stdout: \(resumed.stdout)")
            expectGenerated(fixture.file("sx.bin"), seed: 63, size: size)
            #expect(directoryEntries(fixture.directory) == ["sx.bin"])
        }
    }
}
