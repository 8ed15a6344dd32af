import NetCore
import Synchronization
import TestSupport
import Testing

@testable import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 16 point 1: `Client` and `Downloader` called from tasks that are not tasklets. The
/// suites inside (one per file) run one at a time: some count the process's "http-client"
/// threads, which the others start.
@Suite(.serialized) struct AnyTaskCalls {
    /// The threads named "http-client" now (the home loop threads of every client alive).
    static func homeLoopThreads() throws -> Int {
        try NoHiddenThreadTests.threadNames().filter { $0 == "http-client" }.count
    }

    /// `homeLoopThreads()` once it is `expected`, or what it is after 5 s: a thread ends (and
    /// names itself) a moment after the call that started or stopped it. A bounded re-read of
    /// /proc with a short pause between reads, not a sleep standing in for an event.
    static func homeLoopThreads(awaiting expected: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(5)
        var seen = try homeLoopThreads()
        while seen != expected && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
            seen = try homeLoopThreads()
        }
        return seen
    }

    /// `condition()` once it holds, or false after 5 s (re-checked every 2 ms).
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(2))
        }
        return true
    }
}

/// A loop driven by a thread the test starts itself (as a program that gives the client its
/// loop would), kept running until `stop()`.
final class DrivenLoop: Sendable {
    let loop: Loop
    private let keeper = Channel<Void>()
    // Set once in init, read by stop() on the same test's task.
    nonisolated(unsafe) private var thread = pthread_t()
    /// Set by the first `stop()`: a second pthread_join of one thread is undefined behaviour
    /// (ThreadSanitizer's thread registry aborts on it), and tests stop early and in a defer.
    private let joined = Atomic<Bool>(false)

    init(name: String) throws {
        let loop = try Loop(name: name)
        self.loop = loop
        let keeper = keeper
        loop.spawn(name: "keeper") { _ = try? await keeper.receive() }
        thread = try OSThreads.start { loop.run() }
    }

    /// Ends the keeper and joins the thread (run() returns once nothing else is alive). Only the
    /// first call does anything.
    func stop() {
        guard !joined.exchange(true, ordering: .acquiringAndReleasing) else { return }
        keeper.close()
        pthread_join(thread, nil)
    }
}
