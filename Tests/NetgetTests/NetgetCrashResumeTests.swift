import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// How a download is ended from outside.
enum Ending: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// SIGKILL: nothing of netget runs after it.
    case kill
    /// SIGHUP: the terminal went away.
    case hangUp
    /// SIGTERM: a service manager stops it.
    case terminate
    /// Two Ctrl-C a moment apart: the second one kills during the clean stop.
    case doubleInterrupt

    var testDescription: String { rawValue }

    /// The signals, in order.
    var signals: [Int32] {
        switch self {
        case .kill: [SIGKILL]
        case .hangUp: [SIGHUP]
        case .terminate: [SIGTERM]
        case .doubleInterrupt: [SIGINT, SIGINT]
        }
    }
}

/// Sends `signals` to `child` once `ready()` holds and `delay` more has passed, `gap` apart.
/// Watched from a plain thread (see `pressCtrlC`). - Returns: false if `ready()` never held.
func sendSignals(
    _ signals: [Int32], to child: ChildProcess, after delay: Duration, gap: Duration = .milliseconds(3),
    when ready: @escaping @Sendable () -> Bool
) async -> Bool {
    await withCheckedContinuation { continuation in
        do {
            let thread = try OSThreads.start {
                let deadline = ContinuousClock.now + .seconds(20)
                while !ready() && ContinuousClock.now < deadline { usleep(2_000) }
                guard ready() else { return continuation.resume(returning: false) }
                usleep(microseconds(delay))
                for (index, signal) in signals.enumerated() {
                    if index > 0 { usleep(microseconds(gap)) }
                    child.send(signal)
                }
                continuation.resume(returning: true)
            }
            pthread_detach(thread)
        } catch {
            continuation.resume(returning: false)
        }
    }
}

private func microseconds(_ duration: Duration) -> UInt32 {
    let (seconds, attoseconds) = duration.components
    return UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
}

/// A download ended at a random moment by a signal, continued with -c (itself ended at a
/// random moment once more), then finished: the file is byte-exact every time, or netget
/// refuses; it is never wrong. Both engines, one connection and four.
@Suite("netget crash-safe resume")
struct NetgetCrashResumeTests {
    static let size = 6 << 20
    static let seed: UInt64 = 71

    /// An engine and a connection count.
    struct Setup: Sendable, CustomTestStringConvertible {
        var engine: Engine
        var connections: Int
        var testDescription: String { "\(engine) -x \(connections)" }
        static let all = Engine.allCases.flatMap { engine in [1, 4].map { Setup(engine: engine, connections: $0) } }
    }

    @Test("killed at random moments, then -c: byte-exact (SHA-256)", arguments: Setup.all, Ending.allCases)
    func killedThenContinued(setup: Setup, ending: Ending) async throws {
        let (engine, connections) = (setup.engine, setup.connections)
        try await withFixture { fixture in
            let url = fixture.url("/gen/\(Self.size)?seed=\(Self.seed)")
            let common = engine.arguments + ["-q", "-x", String(connections), "-o", "k.bin"]
            var generator = SystemRandomNumberGenerator()
            var moments: [Int] = []
            for round in 0..<2 {
                // 6 MiB at 3 MiB/s: about 2 s, so a moment in the first 1.8 s lands in the body
                // (or, early, before the first byte: as much a moment as any other).
                let moment = Int.random(in: 0...1800, using: &generator)
                moments.append(moment)
                let child = try await startNetget(
                    common + (round > 0 ? ["-c"] : []) + ["--limit-rate", "3M", url],
                    in: fixture.directory)
                let server = fixture.server
                let served = server.stats.requestsServed
                let done = fixture.file("k.bin")
                // A -c after a kill that came when every byte was stored asks nothing: it only renames.
                let sent = await sendSignals(ending.signals, to: child, after: .milliseconds(moment)) {
                    server.stats.requestsServed > served || fileExists(done)
                }
                let ended = await finish(child)
                #expect(sent, "neither a request reached the server nor did the file appear")
                #expect(
                    ended.exitCode != 0 || fileExists(fixture.file("k.bin")),
                    "a download ended by \(ending) at \(moments) ms exited 0 without the file; stderr: \(ended.stderr)")
                expectNoCrashReport(ended)
                // PATH may be there after a signal that came once it was renamed (exit 130 all the
                // same: the run was interrupted); then it must be whole, which the hash below checks.
                if fileExists(fixture.file("k.bin")) { break }
            }
            if !fileExists(fixture.file("k.bin")) {
                // What the meta claims is what -c must keep: a netget that ignored the meta and
                // started over would pass the hash, not this.
                let claimed = claimedBytes(inMeta: fixture.file("k.bin.part.meta"))
                let resumed = try await netget(common + ["-c", "--json", url], in: fixture.directory)
                #expect(resumed.exitCode == 0, "ended by \(ending) at \(moments) ms; stderr: \(resumed.stderr)")
                if let claimed {
                    #expect(
                        jsonSummaries(resumed).first?["resumed-from"]?.number == Double(claimed),
                        "the meta claimed \(claimed) bytes; stdout: \(resumed.stdout)")
                }
            }
            let expected = try await expectedSHA256(seed: Self.seed, size: Self.size, in: fixture.directory)
            #expect(
                try await sha256Hex(ofFile: fixture.file("k.bin")) == expected,
                "ended by \(ending) at \(moments) ms, -x \(connections), \(engine): wrong SHA-256")
            #expect(directoryEntries(fixture.directory) == ["k.bin"])
        }
    }

    @Test("the meta is on disk before the first body byte and only claims flushed bytes", arguments: Engine.allCases)
    func metaBeforeFirstByte(engine: Engine) async throws {
        try await withFixture { fixture in
            // The server stalls after 1000 bytes: the meta must be there, true, and claim at most them.
            // 2 MB: a file below the writer's 1 MiB buffer fetched in one piece gets no meta
            // (NetgetGroupCommitTests.smallFileKeepsNoMeta).
            let url = fixture.url(TestServerURL().gen(2_000_000).seed(72).fault(.stall(at: 1000, ms: 8000)).once("first"))
            let child = try await startNetget(engine.arguments + ["-o", "m.bin", url], in: fixture.directory)
            // Killed well into the stall: the 1000 bytes have arrived (they may still sit in the
            // writer's buffer, which the meta must then not claim).
            let server = fixture.server
            let sent = await sendSignals([SIGKILL], to: child, after: .milliseconds(500)) { server.stats.requestsServed >= 1 }
            _ = await finish(child)
            #expect(sent)
            let meta = String(decoding: (try? readFile(fixture.file("m.bin.part.meta"))) ?? [], as: UTF8.self)
            #expect(meta.hasPrefix("netget-resume 2\nurl \(url)\n"), "meta: \(meta)")
            #expect(meta.contains("\nlength 2000000\n"), "meta: \(meta)")
            // Either nothing claimed yet or the 1000 bytes: one missing range from 0 or from 1000,
            // to the end (open, or the last byte); and never more than the .part holds.
            let missing = meta.split(separator: "\n").filter { $0.hasPrefix("missing ") }
            #expect(
                missing.count == 1 && ["missing 0-", "missing 0-1999999", "missing 1000-", "missing 1000-19999999"].contains(missing[0]),
                "meta: \(meta)")
            let claimed = claimedBytes(inMeta: fixture.file("m.bin.part.meta")) ?? 0
            #expect(claimed <= fileSize(fixture.file("m.bin.part")) ?? 0, "the meta claims \(claimed) bytes the .part does not have")

            // The same URL (the stall was once only).
            let resumed = try await netget(engine.arguments + ["-c", "-o", "m.bin", url], in: fixture.directory)
            #expect(resumed.exitCode == 0, "stderr: \(resumed.stderr)")
            expectGenerated(fixture.file("m.bin"), seed: 72, size: 2_000_000)
        }
    }

    @Test(
        "-c refuses a torn meta, one for another URL, and one that claims more than the .part has; then starts over",
        arguments: ["torn", "url", "longer"])
    func untrustedMeta(kind: String) async throws {
        try await withFixture { fixture in
            let url = fixture.url("/gen/50000?seed=73")
            try writeFile(fixture.file("u.bin.part"), generatedBytes(seed: 99, count: 20000))
            var meta: [UInt8]
            switch kind {
            case "torn":
                meta = resumeMeta(url: url, etag: "\"73-50000\"", length: 50000, missing: ["20000-49999"])
                meta.removeLast(9)  // cut inside the checksum line, as a full disk or a crash would
            case "url":
                meta = resumeMeta(url: fixture.url("/gen/50000?seed=99"), etag: "\"73-50000\"", length: 50000, missing: ["20000-49999"])
            default:
                meta = resumeMeta(url: url, etag: "\"73-50000\"", length: 50000, missing: ["40000-49999"])
            }
            try writeFile(fixture.file("u.bin.part.meta"), meta)
            let result = try await netget(["-c", "-o", "u.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("starting over"), "stderr: \(result.stderr)")
            expectGenerated(fixture.file("u.bin"), seed: 73, size: 50000)
            #expect(directoryEntries(fixture.directory) == ["u.bin"])
        }
    }

    @Test("-c with a .part that has a hole and no meta (segments of another run): not resumed from its size")
    func holeWithoutMeta() async throws {
        try await withFixture { fixture in
            let url = fixture.url("/gen/3000000?seed=74")
            // The first 100 KB are right, then a hole up to 3 MB: what a segmented writer leaves.
            try writeFile(fixture.file("h.bin.part"), generatedBytes(seed: 74, count: 100_000))
            #expect(truncate(fixture.file("h.bin.part"), 2_900_000) == 0)
            let result = try await netget(["-c", "-o", "h.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("hole"), "stderr: \(result.stderr)")
            expectGenerated(fixture.file("h.bin"), seed: 74, size: 3_000_000)
        }
    }

    @Test("a fresh run (no -c) removes an old meta before it writes its own", arguments: Engine.allCases)
    func freshRunReplacesOldMeta(engine: Engine) async throws {
        try await withFixture { fixture in
            let url = fixture.url("/gen/50000?seed=75")
            try writeFile(fixture.file("f.bin.part"), generatedBytes(seed: 99, count: 50000))
            try writeFile(fixture.file("f.bin.part.meta"), resumeMeta(url: url, etag: "\"75-50000\"", length: 50000, missing: []))
            let result = try await netget(engine.arguments + ["-o", "f.bin", url], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            expectGenerated(fixture.file("f.bin"), seed: 75, size: 50000)
            #expect(directoryEntries(fixture.directory) == ["f.bin"])
        }
    }
}

/// The bytes a meta says are stored (its length less its missing ranges), nil without a meta
/// or a length.
func claimedBytes(inMeta path: String) -> UInt64? {
    guard let bytes = try? readFile(path) else { return nil }
    var length: UInt64?
    var missing: UInt64 = 0
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        if line.hasPrefix("length "), let value = UInt64(line.dropFirst(7)) { length = value }
        if line.hasPrefix("missing ") {
            let bounds = line.dropFirst(8).split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, let first = UInt64(bounds[0]) else { return nil }
            let last = UInt64(bounds[1]).map { $0 + 1 } ?? length ?? first
            missing += last - first
        }
    }
    return length.map { $0 - missing }
}

/// A crash report (a trap, a backtrace) anywhere in standard error fails the test.
func expectNoCrashReport(_ output: ProcessOutput, sourceLocation: SourceLocation = #_sourceLocation) {
    // The sanitizers' reports too: under `make test-tsan` netget is the ThreadSanitizer build.
    for marker in [
        "Fatal error", "Stack dump", "stack trace", "Backtrace", "Swift runtime failure", "Segmentation fault",
        "ThreadSanitizer", "AddressSanitizer",
    ] {
        #expect(!output.stderr.contains(marker), "stderr has a crash report (\(marker)):\n\(output.stderr)", sourceLocation: sourceLocation)
    }
}

/// A PATH.part.meta as netget writes it (version 2, with its FNV-1a checksum line), written
/// here independently of netget's own code so that the tests check the format, not echo it.
func resumeMeta(url: String, etag: String? = nil, lastModified: String? = nil, length: UInt64?, missing: [String]) -> [UInt8] {
    var text = "netget-resume 2\nurl \(url)\n"
    if let etag { text += "etag \(etag)\n" }
    if let lastModified { text += "last-modified \(lastModified)\n" }
    if let length { text += "length \(length)\n" }
    for range in missing { text += "missing \(range)\n" }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    let digits = String(hash, radix: 16)
    return Array((text + "end " + String(repeating: "0", count: 16 - digits.count) + digits + "\n").utf8)
}
