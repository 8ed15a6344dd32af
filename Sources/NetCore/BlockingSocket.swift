#if canImport(Glibc)
    import Glibc
#endif

/// A TCP (or Unix domain socket) connection for threads that may block (worker threads): the descriptor is
/// non-blocking underneath, each call goes through `SystemCalls` like the parking sockets', and
/// each wait is a `Poll.poll` with the caller's timeout, so a pending socket error ends the wait
/// and the next call raises it (`NetError`).
///
/// Thread rule: one thread at a time; never on a loop's thread (it would stall the loop).
public final class BlockingSocket: @unchecked Sendable {  // one thread at a time, see above
    /// The descriptor, or -1 once closed.
    public private(set) var fileDescriptor: Int32

    /// Takes ownership of a connected socket and makes it non-blocking underneath.
    /// - Throws: `NetError` if `fd` is not open.
    public init(adopting fd: Int32) throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw NetError(errno: errno, operation: "adopt descriptor \(fd)")
        }
        fileDescriptor = fd
    }

    deinit { close() }

    /// Connects to `address` (TCP, or a Unix socket: `SocketAddress(unixPath:)`, which connects
    /// at once or fails), blocking the calling thread up to `timeout` for the handshake.
    /// - Throws: `NetError` (`.connectionRefused`, `.timedOut`, ...). Nothing leaks on failure.
    public static func connect(to address: SocketAddress, timeout: Duration?) throws -> BlockingSocket {
        let (connection, connected) = try startConnect(to: address)
        if !connected {
            try connection.wait(.writable, timeout: timeout, operation: "connect to \(address)")
            try connection.finishConnect(to: address)
        }
        return connection
    }

    /// Starts connecting to `address` without waiting, for a caller that polls several attempts
    /// at once (Happy Eyeballs on a worker thread). Unless `connected`, wait until writable
    /// (`Poll`), then call `finishConnect(to:)`. Cost: two system calls.
    /// - Throws: `NetError` when the connect fails at once. Nothing leaks on failure.
    public static func startConnect(to address: SocketAddress) throws -> (socket: BlockingSocket, connected: Bool) {
        let operation = "connect to \(address)"
        let fd = socket(
            address.addressFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetError(errno: errno, operation: operation) }
        let connection = try BlockingSocket(adopting: fd)
        switch SystemCalls.tryConnect(fd, to: address) {
        case .done, .end:
            connection.setNoDelay()
            return (connection, true)
        case .error(let code): throw NetError(errno: code, operation: operation)
        case .wouldBlock: return (connection, false)
        }
    }

    /// Ends a connect that `startConnect` left in progress, once the socket polled writable
    /// (or with an error): the handshake's outcome from `SO_ERROR`. Never blocks; two system
    /// calls (getsockopt, and setsockopt for `TCP_NODELAY`).
    /// - Throws: `NetError` of the failed handshake (`.connectionRefused`, ...); the caller closes.
    public func finishConnect(to address: SocketAddress) throws {
        let pending = SystemCalls.takePendingError(fileDescriptor)
        if pending != 0 { throw NetError(errno: pending, operation: "connect to \(address)") }
        setNoDelay()
    }

    private func setNoDelay() {
        var one: Int32 = 1
        setsockopt(fileDescriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads what is there, up to `buffer.count` bytes, blocking until at least one byte arrives.
    /// - Returns: the byte count; 0 at end of stream (or for an empty buffer).
    /// - Throws: `NetError` (`.timedOut` when `timeout` passes with no byte, `.closed`, ...).
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            guard fileDescriptor >= 0 else { throw NetError.closed("read") }
            switch SystemCalls.tryReceive(fileDescriptor, into: buffer) {
            case .done(let n): return n
            case .end: return 0
            case .wouldBlock: try wait(.readable, timeout: timeout, operation: "read")
            case .error(let code): throw NetError(errno: code, operation: "read")
            }
        }
    }

    /// Writes every byte, blocking while the peer is not reading; `timeout` bounds each wait.
    /// - Throws: `NetError` (`.brokenPipe`, `.timedOut`, `.closed`, ...); some bytes may have gone.
    public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) throws {
        var offset = 0
        while offset < bytes.count {
            guard fileDescriptor >= 0 else { throw NetError.closed("write") }
            switch SystemCalls.trySend(fileDescriptor, UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .done(let n): offset += n
            case .end: break  // only reads end; a send reports .done or an error
            case .wouldBlock: try wait(.writable, timeout: timeout, operation: "write")
            case .error(let code): throw NetError(errno: code, operation: "write")
            }
        }
    }

    /// Blocks until the descriptor is ready for `events` (or has a pending error).
    /// - Throws: `NetError` of kind `.timedOut` when `timeout` passes first.
    public func wait(_ events: PollEvents, timeout: Duration?, operation: String) throws {
        let ready = try Poll.poll([PollRequest(fd: fileDescriptor, events: events)], timeout: timeout)
        if ready.isEmpty, let timeout { throw NetError.timedOut(operation, after: timeout) }
    }

    /// True when the socket is open, has nothing to read and no pending error: a pooled
    /// connection the peer has not closed (a close shows as end of stream, readable at once).
    /// Never blocks. Cost: one system call (`SystemCalls.tryPeek`).
    public var isIdleAndOpen: Bool { fileDescriptor >= 0 && SystemCalls.tryPeek(fileDescriptor) == .wouldBlock }

    /// Closes the socket. Idempotent; the owning thread only.
    public func close() {
        if fileDescriptor >= 0 {
            Glibc.close(fileDescriptor)
            fileDescriptor = -1
        }
    }
}
