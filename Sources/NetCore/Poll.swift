import CLinuxShim

#if canImport(Glibc)
    import Glibc
#endif

/// What a descriptor is waited for, or found ready for.
public struct PollEvents: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// The bits: 1 readable, 2 writable.
    public let rawValue: UInt8
    /// The set with these bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Data (or end-of-stream, or a pending error) can be read without blocking.
    public static let readable = PollEvents(rawValue: 1)
    /// Data can be written without blocking (or a pending error makes the write fail at once).
    public static let writable = PollEvents(rawValue: 2)

    /// The events by name, for logs and messages.
    public var description: String {
        [contains(.readable) ? "readable" : nil, contains(.writable) ? "writable" : nil]
            .compactMap { $0 }.joined(separator: "+")
    }
}

/// One descriptor and what to wait for.
public struct PollRequest: Sendable, Hashable {
    /// The descriptor to wait on.
    public var fd: Int32
    /// What to wait for.
    public var events: PollEvents
    /// A wait for `events` on `fd`.
    public init(fd: Int32, events: PollEvents) {
        self.fd = fd
        self.events = events
    }
}

/// A descriptor found ready, and for what. `hasError` says the readiness comes from an error or
/// hang-up on the descriptor: the next read or write on it raises the real error.
public struct PollResult: Sendable, Hashable {
    /// The descriptor, as in its request.
    public var fd: Int32
    /// What it is ready for; a socket with a pending error is ready for what was asked.
    public var ready: PollEvents
    /// True when the descriptor has a pending error or hang-up (`POLLERR`, `POLLHUP`, `SO_ERROR`):
    /// the next call on it raises the real error.
    public var hasError: Bool
}

/// The system calls `Poll` makes, replaceable so that tests can make a call fail the way some
/// platforms do (select or poll failing with ECONNRESET because one socket was reset). The real
/// ones go through `SystemCalls`, which retries `EINTR` (the one place that does).
struct PollSystemCalls: Sendable {
    /// poll(2) on `count` descriptors; the closure gives the timeout in milliseconds (-1 = none)
    /// and is asked again for each try.
    var poll: @Sendable (UnsafeMutablePointer<pollfd>, Int, () -> Int32) -> IOResult
    /// select(2) on read and write sets; the closure fills both sets and gives the timeout in
    /// microseconds (-1 = none), before each try.
    var select: @Sendable (Int32, UnsafeMutablePointer<fd_set>, UnsafeMutablePointer<fd_set>, () -> Int64) -> IOResult

    static let system = PollSystemCalls(
        poll: { fds, count, timeout in SystemCalls.tryPoll(fds, count: count, timeout: timeout) },
        select: { maxFD, readSet, writeSet, prepare in
            SystemCalls.trySelect(maxFD: maxFD, readSet: readSet, writeSet: writeSet, prepare: prepare)
        })
}

/// Blocking `select` and `poll` for code that is not on a loop (worker threads, the blocking
/// HTTP engine).
///
/// Both treat a socket with a pending error (POLLERR, POLLHUP, a non-zero SO_ERROR) as ready for
/// what the caller waited on, so the caller's next read or write raises the real error instead
/// of the wait failing or hanging. Where the system call itself fails because of one socket's
/// error (some platforms' select and poll return ECONNRESET and the like), the wrapper does not
/// throw: it rebuilds the ready set by checking each descriptor on its own.
///
/// Safe on any thread; they block the calling thread (never call them on a loop's thread).
public enum Poll {
    /// Waits until at least one descriptor is ready or the timeout passes.
    /// - Parameters:
    ///   - requests: descriptors and what to wait for.
    ///   - timeout: nil waits forever; zero polls once.
    /// - Returns: the ready descriptors (empty on timeout), in request order.
    /// - Throws: `NetError` only when the wait itself cannot be made (EINVAL, ENOMEM, EFAULT).
    public static func poll(_ requests: [PollRequest], timeout: Duration?) throws -> [PollResult] {
        try poll(requests, timeout: timeout, calls: .system)
    }

    /// `select(2)` over read and write sets.
    /// - Returns: the descriptors ready for reading and for writing (empty on timeout).
    /// - Throws: `NetError` (EINVAL) for a descriptor at or above FD_SETSIZE (1024): use `poll`.
    public static func select(readable: [Int32], writable: [Int32], timeout: Duration?) throws
        -> (readable: [Int32], writable: [Int32])
    {
        try select(readable: readable, writable: writable, timeout: timeout, calls: .system)
    }

    static func poll(_ requests: [PollRequest], timeout: Duration?, calls: PollSystemCalls) throws -> [PollResult] {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var fds = requests.map { pollfd(fd: $0.fd, events: pollMask($0.events), revents: 0) }
        while true {
            let outcome = fds.withUnsafeMutableBufferPointer {
                // An array's buffer base is never nil. A retry after EINTR (in SystemCalls) asks
                // for the time left again.
                calls.poll($0.baseAddress!, $0.count) { remainingMilliseconds(until: deadline) }
            }
            switch outcome {
            case .done, .end:
                return zip(requests, fds).compactMap { request, fd in
                    result(for: request, revents: fd.revents)
                }
            case .error(let code) where code == EINVAL || code == ENOMEM || code == EFAULT:
                throw NetError(errno: code, operation: "poll", context: "\(requests.count) descriptors")
            case .error, .wouldBlock:
                let ready = rebuild(requests, calls: calls)
                if !ready.isEmpty || isPast(deadline) { return ready }
            }
        }
    }

    static func select(readable: [Int32], writable: [Int32], timeout: Duration?, calls: PollSystemCalls) throws
        -> (readable: [Int32], writable: [Int32])
    {
        let limit = Int32(cln_fdset_capacity())
        if let bad = (readable + writable).first(where: { $0 < 0 || $0 >= limit }) {
            throw NetError(
                kind: .other, errno: EINVAL, operation: "select",
                context: "descriptor \(bad) is outside 0..<\(limit); use Poll.poll")
        }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let maxFD = (readable + writable).max() ?? -1
        var readSet = fd_set()
        var writeSet = fd_set()
        while true {
            // Filled again before each try: select leaves the sets undefined when it fails.
            let outcome = withUnsafeMutablePointer(to: &readSet) { readPointer in
                withUnsafeMutablePointer(to: &writeSet) { writePointer in
                    calls.select(maxFD, readPointer, writePointer) {
                        cln_fdset_clear(readPointer)
                        cln_fdset_clear(writePointer)
                        for fd in readable { cln_fdset_add(readPointer, fd) }
                        for fd in writable { cln_fdset_add(writePointer, fd) }
                        return deadline.map { max(0, ContinuousClock.now.duration(to: $0).nanosecondsClamped / 1000) } ?? -1
                    }
                }
            }
            switch outcome {
            case .done, .end:
                return (
                    readable.filter { cln_fdset_has(&readSet, $0) != 0 },
                    writable.filter { cln_fdset_has(&writeSet, $0) != 0 }
                )
            case .error(let code) where code == EINVAL || code == ENOMEM || code == EFAULT:
                throw NetError(errno: code, operation: "select")
            case .error, .wouldBlock:
                // Rebuild from single-descriptor checks, keeping each list's order.
                var requests: [PollRequest] = []
                for fd in Set(readable + writable).sorted() {
                    var events: PollEvents = []
                    if readable.contains(fd) { events.insert(.readable) }
                    if writable.contains(fd) { events.insert(.writable) }
                    requests.append(PollRequest(fd: fd, events: events))
                }
                let ready = rebuild(requests, calls: calls)
                if !ready.isEmpty || isPast(deadline) {
                    let readyRead = Set(ready.filter { $0.ready.contains(.readable) }.map(\.fd))
                    let readyWrite = Set(ready.filter { $0.ready.contains(.writable) }.map(\.fd))
                    return (readable.filter(readyRead.contains), writable.filter(readyWrite.contains))
                }
            }
        }
    }

    /// Checks each descriptor on its own, without waiting. A descriptor whose own check fails counts
    /// as ready for everything it was waited for. A pending SO_ERROR shows as POLLERR here; it is
    /// never read with getsockopt, which would clear it and hide it from the caller's next call.
    static func rebuild(_ requests: [PollRequest], calls: PollSystemCalls) -> [PollResult] {
        requests.compactMap { request in
            var fd = pollfd(fd: request.fd, events: pollMask(request.events), revents: 0)
            let outcome = calls.poll(&fd, 1, { 0 })
            switch outcome {
            case .done, .end: break
            case .error, .wouldBlock:
                return PollResult(fd: request.fd, ready: request.events, hasError: true)
            }
            return result(for: request, revents: fd.revents)
        }
    }

    private static func result(for request: PollRequest, revents: Int16) -> PollResult? {
        let errorBits = Int16(POLLERR) | Int16(POLLHUP) | Int16(POLLNVAL)
        if revents & errorBits != 0 {
            return PollResult(fd: request.fd, ready: request.events, hasError: true)
        }
        var ready: PollEvents = []
        if revents & Int16(POLLIN) != 0 && request.events.contains(.readable) { ready.insert(.readable) }
        if revents & Int16(POLLOUT) != 0 && request.events.contains(.writable) { ready.insert(.writable) }
        return ready.isEmpty ? nil : PollResult(fd: request.fd, ready: ready, hasError: false)
    }

    private static func pollMask(_ events: PollEvents) -> Int16 {
        var mask: Int16 = 0
        if events.contains(.readable) { mask |= Int16(POLLIN) }
        if events.contains(.writable) { mask |= Int16(POLLOUT) }
        return mask
    }

    private static func remainingMilliseconds(until deadline: ContinuousClock.Instant?) -> Int32 {
        guard let deadline else { return -1 }
        let nanoseconds = ContinuousClock.now.duration(to: deadline).nanosecondsClamped
        if nanoseconds <= 0 { return 0 }
        // Round up so that a wait never ends before its deadline.
        return Int32(clamping: (nanoseconds + 999_999) / 1_000_000)
    }

    private static func isPast(_ deadline: ContinuousClock.Instant?) -> Bool {
        deadline.map { ContinuousClock.now >= $0 } ?? false
    }
}
