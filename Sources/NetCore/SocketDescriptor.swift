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

/// Why a park on a descriptor ended without readiness. `SocketDescriptor.wait` turns it into
/// the `NetError` that names the operation: the operation and timeout live in the waiting frame
/// (which the task pays for anyway), not in every socket.
enum SocketWaitEnd: Error {
    case timedOut
    case closed
}

/// A non-blocking descriptor plus the machinery that parks tasklets on it: one `ev_io` watcher
/// for both directions (its events are the directions someone waits in), at most one parked
/// continuation per direction, and an optional timer per direction for timeouts.
///
/// A socket call first tries the system call; on `EAGAIN` it starts the watcher and suspends.
/// The watcher's callback resumes the tasklets of the directions that became ready (libev
/// reports a socket error as readable and writable), so the retried system call reports the
/// real error.
///
/// Memory: every parked tasklet's socket pays for this object, so it holds only what a wait
/// needs (see the closing accounting in issue 13). The `ev_io` lives inside the object (no
/// separate block) and holds the descriptor number; `StreamSocket` is a subclass, so a stream
/// socket is one object: 104 B of fields here, 120 B with its two yield meters (a 128 B block).
///
/// The class is public only because `StreamSocket` (public) inherits from it; it has no public
/// initializer and only the members `StreamSocket` documents as its own.
///
/// Confined to the thread of the loop it is first used on; `close()` must be called there too.
public class SocketDescriptor: ParkSite, @unchecked Sendable {  // confined to `loop`'s thread, see above
    /// The latest wait id per direction: odd for reads, even for writes, so that ids of the two
    /// directions never meet (a wait is on while that direction's waiter is set). 32 bits: an id
    /// only has to differ from the ids of the few waits a late cancellation could still name.
    private var waitIDs: (UInt32, UInt32) = (UInt32.max, 0)
    final private(set) var loop: Loop?
    /// Two ev_timer (read, write), allocated on the first wait with a timeout: most sockets never need them.
    private var timers: UnsafeMutablePointer<ev_timer>?
    private var waiters: (UnsafeContinuation<Void, any Error>?, UnsafeContinuation<Void, any Error>?) = (nil, nil)
    /// One ev_io for both directions, started with the union of the waited directions. Its `fd`
    /// field is the descriptor (-1 once closed): libev reads it only while the watcher runs. It is
    /// set up (`ev_io_init`) on its first start and whenever its directions change; a restart with
    /// the same directions is a bare `ev_io_start` (see `rearmWatcher`).
    ///
    /// Its address goes to libev while the watcher runs (`watcher`): a stored property of a class
    /// lives at a fixed place in the object, which never moves, and the object outlives the
    /// watcher (a parked tasklet holds it; `close()` and the last wake stop it).
    private var io = ev_io()

    init(fd: Int32) {
        io.fd = fd
    }

    deinit {
        // A parked tasklet holds a reference, so no watcher can be active here.
        if fd >= 0 { Glibc.close(fd) }
        if let timers {
            timers.deinitialize(count: 2)
            timers.deallocate()
        }
    }

    /// The descriptor number, -1 once closed.
    final var fd: Int32 { io.fd }

    /// The object's own `ev_io`, for libev (see `io`).
    private var watcher: UnsafeMutablePointer<ev_io> { withUnsafeMutablePointer(to: &io) { $0 } }

    /// True once `close()` has been called.
    public final var isClosed: Bool { fd < 0 }

    /// Parks the calling tasklet until the descriptor is ready in `direction`, an error is pending
    /// on it, the timeout passes, the tasklet is cancelled, or the descriptor is closed.
    /// - Throws: `NetError` (.timedOut, .closed, .concurrentWait), `CancellationError`,
    ///   `LoopError.notOnLoopThread`.
    nonisolated(nonsending) final func wait(_ direction: IODirection, timeout: Duration?, operation: String) async throws {
        let id = try prepareWait(direction, operation: operation)
        do {
            // The closure captures four words: every byte of this frame is paid by every parked
            // tasklet, and a frame chain beyond the task's first allocator slab costs another ~1 KiB.
            try await park(on: self, id: UInt64(id)) { [self] continuation, checkCancellation in
                install(continuation, direction: direction, id: id, timeout: timeout, checkCancellation: checkCancellation)
            }
        } catch let end as SocketWaitEnd {
            switch end {
            case .timedOut: throw NetError.timedOut(operation, after: timeout ?? .zero)
            case .closed:
                throw NetError(
                    kind: .closed, errno: EBADF, operation: operation,
                    context: "the socket was closed while a tasklet waited on it")
            }
        }
    }

    /// Checks that the wait can happen; returns the wait's id.
    private func prepareWait(_ direction: IODirection, operation: String) throws -> UInt32 {
        guard let current = Loop.current else { throw LoopError.notOnLoopThread(operation) }
        guard fd >= 0 else { throw NetError.closed(operation) }
        if let loop, loop !== current {
            throw NetError(
                kind: .other, errno: 0, operation: operation,
                context: "the socket belongs to loop '\(loop.name)', not '\(current.name)'")
        }
        loop = current
        guard waiter(direction) == nil else {
            throw NetError(
                kind: .concurrentWait, errno: 0, operation: operation,
                context: "another tasklet is already waiting on this socket in that direction")
        }
        // Steps of 2 keep the parity (read: odd, write: even) through the wrap.
        let id = waitID(direction) &+ 2
        if direction == .read { waitIDs.0 = id } else { waitIDs.1 = id }
        return id
    }

    /// Starts the watcher (and timer) and stores the continuation; runs just before suspension.
    private func install(
        _ continuation: UnsafeContinuation<Void, any Error>, direction: IODirection, id: UInt32, timeout: Duration?,
        checkCancellation: Bool
    ) {
        guard let loop, !(checkCancellation && Task.isCancelled) else {
            continuation.resume(throwing: CancellationError())
            return
        }
        setWaiter(direction, continuation)
        rearmWatcher(on: loop)
        if let timeout {
            let timer = timerPair() + direction.rawValue
            let seconds = max(0, timeout.seconds)
            cev_timer_init(timer, SocketDescriptor.timerFired, seconds, max(seconds, 1))
            timer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            loop.start(timer)
        }
    }

    /// Points the watcher at the directions still waited in (stopped when none): libev needs a
    /// watcher stopped before its events change.
    private func rearmWatcher(on loop: Loop) {
        var events: Int32 = 0
        if waiters.0 != nil { events |= Int32(EV_READ) }
        if waiters.1 != nil { events |= Int32(EV_WRITE) }
        let active = cev_io_is_active(watcher) != 0
        let armed = watcher.pointee.events & (Int32(EV_READ) | Int32(EV_WRITE))
        if active && armed == events { return }
        if active { loop.stop(watcher) }
        guard events != 0 else { return }
        // The same directions as last time: a bare restart. `ev_io_init` marks the descriptor
        // for re-registration, and libev then asks epoll to ADD a descriptor it never removed
        // (it skips the DEL on a stop): one failed `epoll_ctl` (EEXIST) per park. A bare restart
        // before the next poll costs no syscall, which is the common case of a tasklet woken by
        // readiness that reads until EAGAIN and parks again in the same job.
        if armed != events {  // a watcher never started (or reset by an error) has no directions
            cev_io_init(watcher, SocketDescriptor.ioReady, fd, events)
            watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        }
        loop.start(watcher)
    }

    /// Ends wait `id` early (cancellation), on the loop's thread. Safe from any thread.
    @usableFromInline final func abandonPark(id: UInt64, error: any Error) {
        loop?.execute { [self] in
            if UInt64(waitIDs.0) == id { finish(.read, id: waitIDs.0, error: error) }
            if UInt64(waitIDs.1) == id { finish(.write, id: waitIDs.1, error: error) }
        }
    }

    /// Resumes the waiter of `direction` (if `id` matches the wait, or always when `id` is nil).
    private func finish(_ direction: IODirection, id: UInt32?, error: (any Error)?, rearm: Bool = true) {
        guard let continuation = waiter(direction) else { return }
        if let id, waitID(direction) != id { return }  // a stale cancel for an earlier wait
        if let timers { loop?.stop(timers + direction.rawValue) }
        setWaiter(direction, nil)
        if rearm, let loop { rearmWatcher(on: loop) }
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
    }

    /// Closes the socket. A tasklet parked on it is resumed with `NetError` of kind `.closed`.
    /// Idempotent. Call on the loop's thread.
    public final func close() {
        guard fd >= 0 else { return }
        finish(.read, id: nil, error: SocketWaitEnd.closed)
        finish(.write, id: nil, error: SocketWaitEnd.closed)  // the watcher is stopped now
        Glibc.close(fd)
        io.fd = -1
    }

    private static let ioReady: cev_io_cb = { _, watcher, revents in
        guard let watcher, let data = watcher.pointee.data else { return }
        let descriptor = Unmanaged<SocketDescriptor>.fromOpaque(data).takeUnretainedValue()
        // On EV_ERROR libev has already stopped the watcher itself; keep the loop's count exact.
        // Its directions are cleared too, so the next wait sets it up in full: after a failed
        // epoll_ctl (ENOSPC, ENOMEM) libev still believes the fd registered, and a bare restart
        // with the same directions would never ask the kernel again.
        if cev_io_is_active(watcher) == 0 {
            descriptor.loop?.watcherStoppedByLibev()
            watcher.pointee.events = 0
        }
        descriptor.loop?.noteWatcherEvent()
        let error = revents & Int32(EV_ERROR) != 0
        let readReady = error || revents & Int32(EV_READ) != 0
        let writeReady = error || revents & Int32(EV_WRITE) != 0
        if readReady { descriptor.finish(.read, id: nil, error: nil, rearm: false) }
        if writeReady { descriptor.finish(.write, id: nil, error: nil, rearm: false) }
        if let loop = descriptor.loop { descriptor.rearmWatcher(on: loop) }
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
        descriptor.loop?.noteWatcherEvent()
        descriptor.finish(direction, id: nil, error: SocketWaitEnd.timedOut)
    }

    // Tuple fields cannot be indexed; these keep the direction switch in one place.
    private func waiter(_ direction: IODirection) -> UnsafeContinuation<Void, any Error>? {
        direction == .read ? waiters.0 : waiters.1
    }

    private func waitID(_ direction: IODirection) -> UInt32 {
        direction == .read ? waitIDs.0 : waitIDs.1
    }

    private func setWaiter(_ direction: IODirection, _ continuation: UnsafeContinuation<Void, any Error>?) {
        if direction == .read { waiters.0 = continuation } else { waiters.1 = continuation }
    }

    // MARK: - Socket options and addresses

    final func setOption(level: Int32, name: Int32, value: Int32, operation: String) throws {
        var value = value
        if setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw NetError(errno: errno, operation: operation)
        }
    }

    /// The pending error (SO_ERROR), which reading also clears.
    final func takePendingError() -> Int32 { SystemCalls.takePendingError(fd) }

    /// This end's address. - Throws: `NetError` for a closed or non-IP socket.
    public final func localAddress() throws -> SocketAddress {
        try address(operation: "getsockname") { getsockname(fd, $0, $1) }
    }

    /// The peer's address. - Throws: `NetError` (`ENOTCONN`), or for a non-IP socket.
    public final func remoteAddress() throws -> SocketAddress {
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
        SocketDescriptor(fd: try openSocket(family: family, type: type, operation: operation))
    }

    /// A new non-blocking, close-on-exec socket's descriptor number.
    static func openSocket(family: Int32, type: Int32, operation: String) throws -> Int32 {
        let fd = socket(family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetError(errno: errno, operation: operation) }
        return fd
    }
}
