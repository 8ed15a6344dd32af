import Synchronization
import Testing
@testable import NetCore

#if canImport(Glibc)
import Glibc
#endif

/// Turns for the tests that need descriptors below FD_SETSIZE (select) and the one that opens
/// two thousand: run at once in one test process, the second leaves the first no low numbers
/// (seen in CI: select's descriptor was 1251).
let lowDescriptorTurns = Mutex<Void>(())

/// A plain OS thread (not a Swift concurrency thread), for tests that mix threads and loops.
final class OSThread: @unchecked Sendable {  // `handle` is written once before start returns
    private var handle = pthread_t()

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    static func start(_ body: @escaping @Sendable () -> Void) -> OSThread {
        let thread = OSThread()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&thread.handle, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }

    func join() { pthread_join(handle, nil) }
}

/// A value written by one thread and read by another after a join or after `run()` returned
/// (both of which order the accesses).
final class Shared<Value>: @unchecked Sendable {  // see above: accesses are ordered by join/run
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `loop` on a new OS thread and returns the thread to join.
func runOnThread(_ loop: Loop) -> OSThread {
    OSThread.start { loop.run() }
}

/// A listener on 127.0.0.1 with a free port.
func loopbackListener() throws -> (TCPListener, SocketAddress) {
    let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
    return (listener, try listener.localAddress())
}

/// Runs the body as a tasklet on a fresh loop with `backend`, drives the loop to completion on
/// the calling thread, and returns the body's result (rethrowing its error).
func runTasklet<T: Sendable>(
    backend: LoopBackend = .automatic, _ body: sending @escaping () async throws -> T
) throws -> T {
    let loop = try Loop(backend: backend)
    let result = Shared<Result<T, any Error>?>(nil)
    loop.spawn(name: "test") {
        do { result.value = .success(try await body()) } catch { result.value = .failure(error) }
    }
    loop.run()
    #expect(loop.stats.activeWatchers == 0, "every watcher is stopped once the loop is idle")
    guard let outcome = result.value else { throw TestFailure("the tasklet never finished") }
    return try outcome.get()
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
