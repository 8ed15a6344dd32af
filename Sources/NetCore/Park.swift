import CLinuxShim

/// Something a tasklet can park on (a channel, a socket, a timer) that can also end the park
/// early, for cancellation.
@usableFromInline
protocol ParkSite: AnyObject, Sendable {
    /// Resumes the wait `id` with `error` if it is still parked. Safe from any thread: sites
    /// whose state belongs to the loop thread hop there themselves.
    func abandonPark(id: UInt64, error: any Error)
}

/// Parks the calling task on `site` until `install`'s continuation is resumed.
///
/// Two paths, because Swift's cancellation handlers cost two status-record lock operations per
/// wait: a tasklet's own task parks without one (its `TaskletHandle.cancel()` knows where it
/// is parked and ends the wait directly); any other task (a child task inside a tasklet, a
/// plain task) parks inside `withTaskCancellationHandler`.
///
/// `install` runs synchronously before the suspension, on the calling thread; it must re-check
/// the wait condition (a wake-up may have come meanwhile), and, when its second argument is true,
/// check `Task.isCancelled` last (under the site's lock, if it has one): a cancellation handler
/// that fired before the waiter was queued found nothing to abandon. A tasklet's own task needs
/// no such check: its cancellation is delivered by `TaskletHandle.cancel()` after the park began.
@inlinable
nonisolated(nonsending) func park<T>(
    on site: some ParkSite, id: UInt64, cancellable: Bool = true,
    _ install: (UnsafeContinuation<T, any Error>, _ checkCancellation: Bool) -> Void
) async throws -> T {
    let loop = Loop.current
    loop?.noteParked(1)
    defer { loop?.noteParked(-1) }
    guard cancellable else {
        // Waits that must finish (re-taking a lock on the way out of a cancelled wait).
        return try await withUnsafeThrowingContinuation { install($0, false) }
    }
    if let loop, let tasklet = Tasklet.currentRoot(on: loop) {
        if tasklet.isCancelRequested { throw CancellationError() }
        tasklet.parked(on: site, id: id)
        defer { tasklet.unparked() }
        return try await withUnsafeThrowingContinuation { install($0, false) }
    }
    return try await withTaskCancellationHandler {
        try await withUnsafeThrowingContinuation { install($0, true) }
    } onCancel: {
        site.abandonPark(id: id, error: CancellationError())
    }
}

/// Resumes a waiter that parked on another loop's thread by posting the resumption to that loop.
/// The loop is alive: the parked task belongs to it and keeps it referenced.
@usableFromInline
func postToLoop(_ loop: UnsafeMutableRawPointer, _ call: @escaping @Sendable () -> Void) {
    Unmanaged<Loop>.fromOpaque(loop).takeUnretainedValue().post(call)
}

/// The continuation of a task parked with `parkUntilResumed`, resumable exactly once from any
/// thread. Resumed from a thread other than the parked task's loop, the resumption is posted to
/// that loop (one `ev_async` wake-up covers every resumption that arrives before the loop runs).
public struct ParkedContinuation<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `loop` is only compared with the current loop and used to post to that loop,
    // which stays alive while one of its tasks is parked.
    @usableFromInline let continuation: UnsafeContinuation<Value, any Error>
    /// The loop the task parked on (nil for a task that is not on a loop).
    @usableFromInline let loop: UnsafeMutableRawPointer?

    @inlinable init(_ continuation: UnsafeContinuation<Value, any Error>, loop: UnsafeMutableRawPointer?) {
        self.continuation = continuation
        self.loop = loop
    }

    /// Resumes the parked task with `value`. Call exactly once (counting `resume(throwing:)`).
    @inlinable public func resume(returning value: Value) {
        _ = resumeReportingLocal(returning: value)
    }

    /// Resumes the task and says whether it belongs to the loop driven by the calling thread (it
    /// is then ready on this run queue, and a channel's preference may yield to it).
    @inlinable func resumeReportingLocal(returning value: Value) -> Bool {
        if let loop, loop != cln_current_loop() {
            let continuation = continuation
            postToLoop(loop) { continuation.resume(returning: value) }
            return false
        }
        continuation.resume(returning: value)
        return loop != nil
    }

    /// Resumes the parked task by throwing `error`. Call exactly once (counting `resume(returning:)`).
    @inlinable public func resume(throwing error: any Error) {
        if let loop, loop != cln_current_loop() {
            let continuation = continuation
            postToLoop(loop) { continuation.resume(throwing: error) }
        } else {
            continuation.resume(throwing: error)
        }
    }
}

/// Parks the calling tasklet (or task) until the continuation handed to `install` is resumed,
/// from any thread. For libraries built on NetCore (the worker pool, for one) that complete work
/// elsewhere.
///
/// - Parameters:
///   - onCancel: called, from any thread, when the task is cancelled while parked (it may also be
///     called once the continuation has already been resumed). It must resume the continuation
///     with `CancellationError` unless it already was: the caller keeps track (an atomic flag).
///   - install: runs synchronously before the task suspends; it hands the continuation to whoever
///     will resume it.
/// - Throws: what the continuation is resumed with.
public func parkUntilResumed<Value: Sendable>(
    onCancel: @escaping @Sendable () -> Void, _ install: (ParkedContinuation<Value>) -> Void
) async throws -> Value {
    let site = CancelCallbackSite(onCancel)
    return try await park(on: site, id: 0) { (continuation: UnsafeContinuation<Value, any Error>, checkCancellation) in
        install(ParkedContinuation(continuation, loop: cln_current_loop()))
        // A cancellation that arrived before install had nothing to cancel yet.
        if checkCancellation && Task.isCancelled { onCancel() }
    }
}

/// A park site whose cancellation is a callback (see `parkUntilResumed`).
final class CancelCallbackSite: ParkSite {
    let onCancel: @Sendable () -> Void
    init(_ onCancel: @escaping @Sendable () -> Void) { self.onCancel = onCancel }
    func abandonPark(id: UInt64, error: any Error) { onCancel() }
}
