import CLibev
import CLibevShim

#if canImport(Glibc)
import Glibc
#endif

/// The direction a tasklet waits in.
enum IODirection: Int {
    case read = 0
    case write = 1
}

/// A non-blocking descriptor plus the machinery that parks tasklets on it: one `ev_io` watcher
/// and at most one parked continuation per direction, and an optional timer per direction for
/// timeouts.
///
/// A socket call first tries the system call; on `EAGAIN` it starts the direction's watcher
/// and suspends. The watcher's callback stops it and resumes the tasklet, whatever the event
/// (libev reports a socket error as readable and writable), so the retried system call reports
/// the real error.
///
/// Confined to the thread of the loop it is first used on; `close()` must be called there too.
final class SocketDescriptor: ParkSite, @unchecked Sendable {  // confined to `loop`'s thread, see above
    private(set) var fd: Int32
    private(set) var loop: Loop?
    /// Two ev_io (read, write) then two ev_timer (read, write), in one allocation.
    private let watchers: UnsafeMutablePointer<ev_io>
    /// Allocated on the first wait with a timeout: most sockets never need them.
    private var timers: UnsafeMutablePointer<ev_timer>?
    private var waiters: (UnsafeContinuation<Void, any Error>?, UnsafeContinuation<Void, any Error>?) = (nil, nil)
    private var waitIDs: (UInt64, UInt64) = (0, 0)
    private var timeouts: (Duration?, Duration?) = (nil, nil)
    private var operations: (String, String) = ("", "")
    private var nextWaitID: UInt64 = 0

    init(fd: Int32) {
        self.fd = fd
        watchers = .allocate(capacity: 2)
        watchers.initialize(repeating: ev_io(), count: 2)
    }

    deinit {
        // A parked tasklet holds a reference, so no watcher can be active here.
        if fd >= 0 { Glibc.close(fd) }
        watchers.deinitialize(count: 2)
        watchers.deallocate()
        if let timers {
            timers.deinitialize(count: 2)
            timers.deallocate()
        }
    }

    var isClosed: Bool { fd < 0 }

    /// Parks the calling tasklet until the descriptor is ready in `direction`, an error is pending
    /// on it, the timeout passes, the tasklet is cancelled, or the descriptor is closed.
    /// - Throws: `NetError` (.timedOut, .closed, .concurrentWait), `CancellationError`,
    ///   `LoopError.notOnLoopThread`.
    nonisolated(nonsending) func wait(_ direction: IODirection, timeout: Duration?, operation: String) async throws {
        let id = try prepareWait(direction, timeout: timeout, operation: operation)
        // The closure captures three words: every byte of this frame is paid by every parked
        // tasklet, and a frame chain beyond the task's first allocator slab costs another ~1 KiB.
        try await park(on: self, id: id) { [self] continuation, checkCancellation in
            install(continuation, direction: direction, id: id, checkCancellation: checkCancellation)
        }
    }

    /// Checks that the wait can happen and records its timeout; returns the wait's id.
    private func prepareWait(_ direction: IODirection, timeout: Duration?, operation: String) throws -> UInt64 {
        guard let current = Loop.current else { throw LoopError.notOnLoopThread(operation) }
        guard fd >= 0 else { throw NetError.closed(operation) }
        if let loop, loop !== current {
            throw NetError(kind: .other, errno: 0, operation: operation,
                           context: "the socket belongs to loop '\(loop.name)', not '\(current.name)'")
        }
        loop = current
        guard waiter(direction) == nil else {
            throw NetError(kind: .concurrentWait, errno: 0, operation: operation,
                           context: "another tasklet is already waiting on this socket in that direction")
        }
        setTimeoutInfo(direction, timeout: timeout, operation: operation)
        nextWaitID &+= 1
        return nextWaitID
    }

    /// Starts the watcher (and timer) and stores the continuation; runs just before suspension.
    private func install(
        _ continuation: UnsafeContinuation<Void, any Error>, direction: IODirection, id: UInt64, checkCancellation: Bool
    ) {
        guard let loop, !(checkCancellation && Task.isCancelled) else {
            continuation.resume(throwing: CancellationError())
            return
        }
        setWaiter(direction, continuation, id: id)
        let io = watchers + direction.rawValue
        cev_io_init(io, SocketDescriptor.ioReady, fd, direction == .read ? Int32(EV_READ) : Int32(EV_WRITE))
        io.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        loop.start(io)
        let (timeout, _) = timeoutInfo(direction)
        if let timeout {
            let timer = timerPair() + direction.rawValue
            let seconds = max(0, timeout.seconds)
            cev_timer_init(timer, SocketDescriptor.timerFired, seconds, max(seconds, 1))
            timer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            loop.start(timer)
        }
    }

    /// Ends wait `id` early (cancellation), on the loop's thread. Safe from any thread.
    func abandonPark(id: UInt64, error: any Error) {
        loop?.execute { [self] in
            if waitIDs.0 == id { finish(.read, id: id, error: error) }
            if waitIDs.1 == id { finish(.write, id: id, error: error) }
        }
    }

    /// Resumes the waiter of `direction` (if `id` matches the wait, or always when `id` is nil).
    private func finish(_ direction: IODirection, id: UInt64?, error: (any Error)?) {
        guard let continuation = waiter(direction) else { return }
        if let id, waitID(direction) != id { return }  // a stale cancel for an earlier wait
        loop?.stop(watchers + direction.rawValue)
        if let timers { loop?.stop(timers + direction.rawValue) }
        setWaiter(direction, nil, id: 0)
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
    }

    /// Closes the descriptor. A tasklet parked on it is resumed with `NetError` of kind `.closed`.
    /// Idempotent. Call on the loop's thread.
    func close() {
        guard fd >= 0 else { return }
        finish(.read, id: nil, error: NetError(kind: .closed, errno: EBADF, operation: operations.0,
                                               context: "the socket was closed while a tasklet waited on it"))
        finish(.write, id: nil, error: NetError(kind: .closed, errno: EBADF, operation: operations.1,
                                                context: "the socket was closed while a tasklet waited on it"))
        Glibc.close(fd)
        fd = -1
    }

    private static let ioReady: cev_io_cb = { _, watcher, _ in
        guard let watcher, let data = watcher.pointee.data else { return }
        let descriptor = Unmanaged<SocketDescriptor>.fromOpaque(data).takeUnretainedValue()
        let direction: IODirection = watcher == descriptor.watchers ? .read : .write
        // On EV_ERROR libev has already stopped the watcher itself; keep the loop's count exact.
        if cev_io_is_active(watcher) == 0 { descriptor.loop?.watcherStoppedByLibev() }
        descriptor.loop?.noteWatcherEvent()
        descriptor.finish(direction, id: nil, error: nil)
    }

    private func timerPair() -> UnsafeMutablePointer<ev_timer> {
        if let timers { return timers }
        let pair = UnsafeMutablePointer<ev_timer>.allocate(capacity: 2)
        pair.initialize(repeating: ev_timer(), count: 2)
        timers = pair
        return pair
    }

    private static let timerFired: cev_timer_cb = { _, timer, _ in
        guard let timer, let data = timer.pointee.data else { return }
        let descriptor = Unmanaged<SocketDescriptor>.fromOpaque(data).takeUnretainedValue()
        let direction: IODirection = timer == descriptor.timers ? .read : .write
        let (timeout, operation) = descriptor.timeoutInfo(direction)
        descriptor.loop?.noteWatcherEvent()
        descriptor.finish(direction, id: nil, error: NetError.timedOut(operation, after: timeout ?? .zero))
    }

    // Tuple fields cannot be indexed; these keep the direction switch in one place.
    private func waiter(_ direction: IODirection) -> UnsafeContinuation<Void, any Error>? {
        direction == .read ? waiters.0 : waiters.1
    }

    private func waitID(_ direction: IODirection) -> UInt64 {
        direction == .read ? waitIDs.0 : waitIDs.1
    }

    private func setWaiter(_ direction: IODirection, _ continuation: UnsafeContinuation<Void, any Error>?, id: UInt64) {
        if direction == .read {
            waiters.0 = continuation
            waitIDs.0 = id
        } else {
            waiters.1 = continuation
            waitIDs.1 = id
        }
    }

    private func setTimeoutInfo(_ direction: IODirection, timeout: Duration?, operation: String) {
        if direction == .read {
            timeouts.0 = timeout
            operations.0 = operation
        } else {
            timeouts.1 = timeout
            operations.1 = operation
        }
    }

    private func timeoutInfo(_ direction: IODirection) -> (Duration?, String) {
        direction == .read ? (timeouts.0, operations.0) : (timeouts.1, operations.1)
    }

    // MARK: - Socket options and addresses

    func setOption(level: Int32, name: Int32, value: Int32, operation: String) throws {
        var value = value
        if setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw NetError(errno: errno, operation: operation)
        }
    }

    /// The pending error (SO_ERROR), which reading also clears.
    func takePendingError() -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0 { return errno }
        return value
    }

    func localAddress() throws -> SocketAddress {
        try address(operation: "getsockname") { getsockname(fd, $0, $1) }
    }

    func remoteAddress() throws -> SocketAddress {
        try address(operation: "getpeername") { getpeername(fd, $0, $1) }
    }

    private func address(
        operation: String, _ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws -> SocketAddress {
        guard fd >= 0 else { throw NetError.closed(operation) }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, &length) }
        }
        guard rc == 0 else { throw NetError(errno: errno, operation: operation) }
        guard let address = SocketAddress(storage: storage, length: length) else {
            throw NetError(kind: .other, errno: 0, operation: operation, context: "not an IP socket")
        }
        return address
    }

    /// Creates a non-blocking, close-on-exec socket.
    static func open(family: Int32, type: Int32, operation: String) throws -> SocketDescriptor {
        let fd = socket(family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetError(errno: errno, operation: operation) }
        return SocketDescriptor(fd: fd)
    }
}
