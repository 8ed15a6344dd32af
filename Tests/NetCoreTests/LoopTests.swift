import Testing
@testable import NetCore

@Suite struct LoopTests {
    @Test func runReturnsTheTaskletsValueAndStopsWhenIdle() async throws {
        let loop = try Loop()
        let handle = loop.spawn(name: "adder") { () async throws -> Int in
            #expect(Tasklet.current?.name == "adder")
            #expect(Loop.current === Tasklet.current?.loop)
            return 40 + 2
        }
        #expect(handle.isAlive)
        loop.run()
        #expect(!handle.isAlive)
        #expect(try await handle.value == 42)
        #expect(loop.stats.taskletsAlive == 0)
    }

    @Test func yieldInterleavesReadyTasklets() throws {
        let loop = try Loop()
        let log = LoopLocalLog()
        for name in ["a", "b"] {
            loop.spawn(name: name) {
                for step in 0..<3 {
                    log.append("\(name)\(step)")
                    await Tasklet.yield()
                }
            }
        }
        loop.run()
        #expect(log.entries == ["a0", "b0", "a1", "b1", "a2", "b2"])
    }
}

/// A log appended to only from one loop's thread, read after `run()` returns.
final class LoopLocalLog: @unchecked Sendable {  // touched by one thread at a time (the loop's, then the test's)
    var entries: [String] = []
    func append(_ entry: String) { entries.append(entry) }
}
