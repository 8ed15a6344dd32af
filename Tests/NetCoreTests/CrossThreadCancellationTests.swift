import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct CrossThreadCancellationTests {
    /// Cancellation from a plain thread reaches a tasklet parked on a socket through the loop's
    /// inbox: it is resumed with CancellationError and its watcher is stopped on the loop thread.
    @Test(arguments: LoopBackend.concrete)
    func aPlainThreadCancelsATaskletParkedOnASocket(backend: LoopBackend) async throws {
        let (left, right) = try StreamSocket.makePair()
        let loop = try Loop(backend: backend)
        let parked = Channel<Int>(capacity: 1)
        let reader = loop.spawn { try await right.read(maxBytes: 8) }
        loop.spawn {
            // Tell the other thread only once the reader is really parked on its watcher.
            while loop.stats.activeWatchers == 0 { await Tasklet.yield() }
            try await parked.send(1)
        }
        let canceller = TestThread.start {
            _ = try? parked.receiveBlocking()
            reader.cancel()
        }
        loop.run()
        canceller.join()
        await #expect(throws: CancellationError.self) { try await reader.value }
        #expect(loop.stats.activeWatchers == 0)
        #expect(loop.stats.taskletsParked == 0)
        left.close()
        right.close()
    }
}
