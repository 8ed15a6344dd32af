import CLinuxShim

/// Thrown by the locks when a tasklet waits with a timeout on a task that is not on a loop
/// (timeouts use the loop's timers).
public struct WaitTimeoutNeedsLoop: Error, CustomStringConvertible {
    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String { "a wait with a timeout must run in a tasklet (timeouts use the loop's timers)" }
}

/// The waiting side shared by every lock: a FIFO of parked tasklets and blocked threads, each
/// woken once with `true` (granted, notified) or `false` (timed out).
///
/// `lock` guards the owner's own state too: the owner checks its condition and queues the
/// waiter under the same lock, so no wake-up falls between the check and the wait. Works
/// between tasklets of one loop, of different loops, and plain threads.
package final class WaitList: ParkSite, @unchecked Sendable {  // `waiters` is guarded by `lock`
    package let lock = PThreadMutex()
    private var waiters = RingBuffer<Waiter>(capacity: 4)
    private var nextID: UInt64 = 0

    /// An empty list. Package access: GameNet's `ReliableChannel` parks its senders and receivers here.
    package init() {}

    private enum Waiter {
        case tasklet(id: UInt64, ParkedContinuation<Bool>)
        case thread(id: UInt64, BlockingSlot<Bool>)

        var id: UInt64 {
            switch self {
            case .tasklet(let id, _), .thread(let id, _): return id
            }
        }

        func wake(_ granted: Bool) {
            switch self {
            case .tasklet(_, let continuation): continuation.resume(returning: granted)
            case .thread(_, let slot): slot.complete(.success(granted))
            }
        }

        func fail(_ error: any Error) {
            switch self {
            case .tasklet(_, let continuation): continuation.resume(throwing: error)
            case .thread(_, let slot): slot.complete(.failure(error))
            }
        }
    }

    var count: Int { waiters.count }

    /// Parks the calling tasklet unless `mustWait` (run under `lock`) says otherwise.
    /// - Returns: true if `mustWait` returned false or a waker granted the wait; false on timeout.
    /// - Throws: `CancellationError`; `WaitTimeoutNeedsLoop` for a timeout outside a loop.
    /// - Parameters:
    ///   - cancellable: false for waits that must complete (a condition re-taking its lock).
    ///   - afterQueued: runs once the waiter is queued, outside `lock`, before suspending (a
    ///     condition releases its lock there, so that no notify can fall in between).
    package func wait(
        timeout: Duration?, cancellable: Bool = true, afterQueued: (() -> Void)? = nil, _ mustWait: () -> Bool
    ) async throws -> Bool {
        let loop = Loop.current
        if timeout != nil && loop == nil { throw WaitTimeoutNeedsLoop() }
        lock.lock()
        guard mustWait() else {
            lock.unlock()
            return true
        }
        nextID &+= 1
        let id = nextID
        lock.unlock()
        let timer = loop.map { OneShotTimer(loop: $0) }
        defer { timer?.stop() }
        if let timeout, let timer {
            timer.start(after: timeout) { [self] in abandonPark(id: id, error: WaitTimedOut()) }
        }
        do {
            return try await park(on: self, id: id, cancellable: cancellable) {
                (continuation: UnsafeContinuation<Bool, any Error>, checkCancellation) in
                lock.lock()
                if !mustWait() {
                    lock.unlock()
                    continuation.resume(returning: true)
                } else if checkCancellation && Task.isCancelled {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append(.tasklet(id: id, ParkedContinuation(continuation, loop: cln_current_loop())))
                    lock.unlock()
                    afterQueued?()
                }
            }
        } catch is WaitTimedOut {
            return false
        }
    }

    /// Blocks the calling plain thread unless `mustWait` (run under `lock`) says otherwise.
    /// - Returns: true if granted (or no wait was needed), false on timeout.
    func waitBlocking(timeout: Duration?, afterQueued: (() -> Void)? = nil, _ mustWait: () -> Bool) -> Bool {
        precondition(Loop.current == nil, "a blocking wait on a loop's thread would block the loop; use the async wait")
        lock.lock()
        guard mustWait() else {
            lock.unlock()
            return true
        }
        nextID &+= 1
        let id = nextID
        let slot = BlockingSlot<Bool>()
        waiters.append(.thread(id: id, slot))
        lock.unlock()
        afterQueued?()
        if let timeout, let granted = slot.wait(timeout: timeout) { return (try? granted.get()) ?? false }
        if timeout == nil { return (try? slot.wait()) ?? false }
        // Timed out: leave the queue, unless a waker took us out first (then its grant stands).
        lock.lock()
        let stillQueued = waiters.removeFirst { $0.id == id } != nil
        lock.unlock()
        return stillQueued ? false : ((try? slot.wait()) ?? false)
    }

    /// Removes and returns a function that wakes the first waiter; call it after unlocking.
    /// The caller holds `lock`.
    package func takeFirstLocked() -> ((Bool) -> Void)? {
        guard let waiter = waiters.popFirst() else { return nil }
        return { waiter.wake($0) }
    }

    /// Removes every waiter; the caller holds `lock` and wakes them after unlocking.
    package func takeAllLocked() -> [(Bool) -> Void] {
        waiters.removeAll().map { waiter in { waiter.wake($0) } }
    }

    /// Ends wait `id` early with `error` (cancellation, or the timeout marker). Any thread.
    func abandonPark(id: UInt64, error: any Error) {
        lock.lock()
        let waiter = waiters.removeFirst { $0.id == id }
        lock.unlock()
        waiter?.fail(error)
    }
}

/// The marker a timed-out wait is resumed with; `wait` turns it into `false`.
struct WaitTimedOut: Error {}
