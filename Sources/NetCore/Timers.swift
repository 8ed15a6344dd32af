import CLibev

/// Thrown when a timeout or deadline expires before the operation finished.
public struct TimeoutError: Error, Equatable, CustomStringConvertible {
    /// What timed out ("connect", "read", "withTimeout", ...).
    public var operation: String
    /// The time that was allowed.
    public var timeout: Duration

    /// A timeout of `operation` ("connect", "read", ...) after `timeout`.
    public init(operation: String, timeout: Duration) {
        self.operation = operation
        self.timeout = timeout
    }

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        "\(operation) timed out after \(timeout); allow more time or check that the peer is responding"
    }
}

/// Parks the calling tasklet for `duration` on a libev timer (no thread is involved).
/// - Throws: `CancellationError` if the tasklet is cancelled meanwhile (the timer is stopped);
///   `LoopError.notOnLoopThread` outside a tasklet.
nonisolated(nonsending) public func sleep(for duration: Duration) async throws {
    guard let loop = Loop.current else { throw LoopError.notOnLoopThread("sleep(for:)") }
    try await TimerWait(loop: loop).wait(for: max(.zero, duration))
}

/// Parks the calling tasklet until `deadline`. Returns at once if it has passed.
/// - Throws: as `sleep(for:)`.
nonisolated(nonsending) public func sleep(until deadline: ContinuousClock.Instant) async throws {
    try await sleep(for: ContinuousClock.now.duration(to: deadline))
}

/// Runs `body` in a child tasklet; if it has not finished after `timeout`, cancels it and
/// throws `TimeoutError`.
///
/// Cancellation is cooperative: the body's parked NetCore waits throw `CancellationError` at
/// once, and `withTimeout` returns when the body has unwound. Call from a tasklet.
/// - Throws: `TimeoutError` on expiry; otherwise whatever `body` throws.
public func withTimeout<T: Sendable>(
    _ timeout: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard Loop.current != nil else { throw LoopError.notOnLoopThread("withTimeout") }
    return try await withThrowingTaskGroup(of: TimeoutRace<T>.self) { group in
        group.addTask { .finished(try await body()) }
        group.addTask {
            try await sleep(for: timeout)
            return .expired
        }
        defer { group.cancelAll() }
        // The group has two children, so next() returns at least once.
        switch try await group.next() {
        case .finished(let value): return value
        case .expired, nil: throw TimeoutError(operation: "withTimeout", timeout: timeout)
        }
    }
}

/// Runs `body`, cancelling it with `TimeoutError` if it is still running at `deadline`.
/// - Throws: `TimeoutError` on expiry (at once if the deadline has passed); otherwise what `body` throws.
public func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let remaining = ContinuousClock.now.duration(to: deadline)
    guard remaining > .zero else { throw TimeoutError(operation: "withDeadline", timeout: .zero) }
    return try await withTimeout(remaining, body)
}

private enum TimeoutRace<T: Sendable>: Sendable {
    case finished(T)
    case expired
}

/// One parked wait on a libev timer (`sleep`). Lives on the loop's thread: the timer's callback
/// and the cancel path (which hops to the loop thread) are the only places that touch it.
final class TimerWait: ParkSite, @unchecked Sendable {  // confined to `loop`'s thread, see above
    unowned let loop: Loop
    private let timer: OneShotTimer
    private var continuation: UnsafeContinuation<Void, any Error>?

    init(loop: Loop) {
        self.loop = loop
        timer = OneShotTimer(loop: loop)
    }

    nonisolated(nonsending) func wait(for duration: Duration) async throws {
        try await park(on: self, id: 0) { (continuation: UnsafeContinuation<Void, any Error>, checkCancellation) in
            if checkCancellation && Task.isCancelled {
                continuation.resume(throwing: CancellationError())
                return
            }
            self.continuation = continuation
            timer.start(after: duration) { [self] in finish(throwing: nil) }
        }
    }

    /// Ends the wait early (cancellation), on the loop's thread. Safe from any thread.
    func abandonPark(id: UInt64, error: any Error) {
        loop.execute { self.finish(throwing: error) }
    }

    func finish(throwing error: (any Error)?) {
        timer.stop()
        guard let continuation else { return }
        self.continuation = nil
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
    }
}
