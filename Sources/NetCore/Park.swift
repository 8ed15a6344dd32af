import CLibevShim

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
    on site: some ParkSite, id: UInt64, _ install: (UnsafeContinuation<T, any Error>, _ checkCancellation: Bool) -> Void
) async throws -> T {
    let loop = Loop.current
    loop?.noteParked(1)
    defer { loop?.noteParked(-1) }
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
