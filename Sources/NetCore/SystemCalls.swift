import CLinuxShim

#if canImport(Glibc)
    import Glibc
#endif

/// What one non-blocking socket call did.
///
/// The one vocabulary between the kernel and both socket flavours: the parking sockets
/// (`StreamSocket`, `UDPSocket`, `TCPListener`) park a tasklet on `.wouldBlock`, the blocking
/// socket (`BlockingSocket`) polls; both turn `.error` into a `NetError` with the operation's name.
public enum IOResult: Equatable, Sendable {
    /// The call moved this many bytes (a datagram may be 0 bytes long), or, for `tryAccept`,
    /// returned this descriptor; 0 for a `tryConnect` that connected at once.
    case done(Int)
    /// `EAGAIN`/`EWOULDBLOCK` (for `tryConnect`: the handshake is in progress): wait until the
    /// descriptor is ready, then call again (`tryConnect`: read `SO_ERROR`).
    case wouldBlock
    /// A stream read found the end of the stream (the peer shut its side down).
    case end
    /// The call failed with this errno.
    case error(Int32)
}

/// NetCore's one syscall layer: each socket call made once, without blocking, its outcome
/// classified as an `IOResult`. `EINTR` is retried here, in `classify`, and nowhere else; no
/// caller sees it. Any thread; each function costs one system call (more only after `EINTR`),
/// allocates nothing, and is inlinable because the read and write paths are hot.
public enum SystemCalls {
    /// Runs `call` until it is not interrupted, and classifies its result: a non-negative
    /// result is `.done(n)` (or `zero` when it is 0), -1 is `.wouldBlock` or `.error(errno)`.
    /// The only place that retries `EINTR`.
    @inlinable @inline(__always)
    static func classify(zero: IOResult, _ call: () -> Int) -> IOResult {
        while true {
            let n = call()
            if n > 0 { return .done(n) }
            if n == 0 { return zero }
            let code = errno
            switch code {
            case EINTR: continue  // a signal arrived before any byte moved: the call did nothing
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .error(code)
            }
        }
    }

    /// `recv(fd, buffer)` on a stream socket: `.done(n)` with n ≥ 1, `.end` at end of stream,
    /// `.wouldBlock`, or `.error`. An empty buffer reads nothing: `.done(0)` without a call.
    @inlinable @inline(__always)
    public static func tryReceive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        guard buffer.count > 0 else { return .done(0) }
        return classify(zero: .end) { recv(fd, buffer.baseAddress, buffer.count, 0) }
    }

    /// `send(fd, bytes, MSG_NOSIGNAL)`: `.done(n)` with the bytes the kernel took (maybe fewer
    /// than `bytes.count`), `.wouldBlock`, or `.error` (`EPIPE` instead of a SIGPIPE).
    @inlinable @inline(__always)
    public static func trySend(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        classify(zero: .done(0)) { send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// `sendto(fd, bytes, MSG_NOSIGNAL, address)`: one datagram; `.done(n)`, `.wouldBlock`, or `.error`.
    @inlinable
    public static func trySend(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, to address: SocketAddress) -> IOResult {
        classify(zero: .done(0)) {
            address.withSockAddr { sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, $1) }
        }
    }

    /// `recvfrom(fd, buffer)`: one datagram (truncated to the buffer) and its sender's address
    /// in `sender`/`senderLength`. `.done(n)` (0 for an empty datagram), `.wouldBlock`, or `.error`.
    @inlinable
    public static func tryReceiveDatagram(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
        sender: inout sockaddr_storage, senderLength: inout socklen_t
    ) -> IOResult {
        withUnsafeMutablePointer(to: &sender) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                withUnsafeMutablePointer(to: &senderLength) { length in
                    classify(zero: .done(0)) { recvfrom(fd, buffer.baseAddress, buffer.count, 0, address, length) }
                }
            }
        }
    }

    /// `connect(fd, address)` on a non-blocking socket: `.done(0)` when connected at once,
    /// `.wouldBlock` while the handshake is in progress (`EINPROGRESS`, and `EINTR`, after which
    /// the kernel goes on connecting: calling connect again would only say `EALREADY`), or
    /// `.error`. After `.wouldBlock`, wait until writable and read `SO_ERROR`.
    public static func tryConnect(_ fd: Int32, to address: SocketAddress) -> IOResult {
        if address.withSockAddr({ connect(fd, $0, $1) }) == 0 { return .done(0) }
        let code = errno
        switch code {
        case EINPROGRESS, EINTR: return .wouldBlock
        default: return .error(code)
        }
    }

    /// `getsockopt(fd, SO_ERROR)`: the socket's pending error (0 for none), which the call
    /// clears; after a non-blocking connect polled writable, the handshake's outcome. The errno
    /// of getsockopt itself when that fails (a closed descriptor: `EBADF`).
    public static func takePendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0 { return errno }
        return value
    }

    /// `accept4(fd, SOCK_NONBLOCK | SOCK_CLOEXEC)`: `.done(descriptor)` of a non-blocking,
    /// close-on-exec connection, `.wouldBlock`, or `.error` (`ECONNABORTED` and `EPROTO` name a
    /// connection that died in the queue, not a failed listener).
    public static func tryAccept(_ fd: Int32) -> IOResult {
        // Descriptor 0 (stdin closed) is a connection, not an end.
        classify(zero: .done(0)) { Int(cln_accept_nonblocking(fd)) }
    }

    /// `connect(fd, address)` for a datagram socket: sets the peer, no handshake.
    /// - Returns: 0, or the errno.
    public static func connectDatagram(_ fd: Int32, to address: SocketAddress) -> Int32 {
        switch classify(zero: .done(0), { Int(address.withSockAddr { connect(fd, $0, $1) }) }) {
        case .error(let code): return code
        case .wouldBlock: return EAGAIN  // not for a datagram socket on Linux; kept exact all the same
        case .done, .end: return 0
        }
    }

    /// `recv(fd, one byte, MSG_PEEK | MSG_DONTWAIT)` on a stream socket, leaving the byte
    /// there: `.done(1)` when a byte waits, `.end` at end of stream, `.wouldBlock` when nothing
    /// is there (an idle, open connection), or `.error` (a pending error, such as a reset).
    /// Never waits, whether or not the descriptor is non-blocking.
    @inlinable
    public static func tryPeek(_ fd: Int32) -> IOResult {
        var byte: UInt8 = 0
        return classify(zero: .end) { recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) }
    }
}

// MARK: - Waits (Poll)

extension SystemCalls {
    /// `poll(fds, count, timeout())`: `.done(n)` with the number of ready descriptors (0: the
    /// timeout passed), or `.error`. `EINTR` is retried in `classify` like every other call, and
    /// `timeout` (milliseconds, -1 for none) is asked again before each try, so a retry after a
    /// signal keeps the caller's deadline. (Linux's poll never fails with `EAGAIN`; were it to,
    /// the result would be `.wouldBlock`.)
    static func tryPoll(_ fds: UnsafeMutablePointer<pollfd>, count: Int, timeout: () -> Int32) -> IOResult {
        classify(zero: .done(0)) { Int(Glibc.poll(fds, nfds_t(count), timeout())) }
    }

    /// `select(maxFD + 1, readSet, writeSet)`: `.done(n)` with the number of ready descriptors
    /// (0: the timeout passed), or `.error`. `prepare` runs before each try (after `EINTR` the sets
    /// are undefined): it fills both sets and returns the timeout in microseconds (-1 for none).
    static func trySelect(
        maxFD: Int32, readSet: UnsafeMutablePointer<fd_set>, writeSet: UnsafeMutablePointer<fd_set>,
        prepare: () -> Int64
    ) -> IOResult {
        classify(zero: .done(0)) {
            let microseconds = prepare()
            guard microseconds >= 0 else { return Int(Glibc.select(maxFD + 1, readSet, writeSet, nil, nil)) }
            var interval = timeval(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
            return Int(Glibc.select(maxFD + 1, readSet, writeSet, nil, &interval))
        }
    }
}
