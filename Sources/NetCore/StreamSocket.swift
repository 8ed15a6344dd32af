#if canImport(Glibc)
    import Glibc
#endif

/// Which half of a stream to shut down.
public enum ShutdownHow: Sendable {
    /// No more reads.
    case read
    /// No more writes: the peer reads end-of-stream (a TCP FIN).
    case write
    /// Both.
    case both
}

/// A connected, non-blocking stream socket (TCP, or one end of a socket pair).
///
/// Every call that would block parks the calling tasklet instead, so the code reads like
/// blocking code while thousands of such tasklets share one thread. Errors are `NetError`s
/// carrying errno; SIGPIPE never fires (writes use MSG_NOSIGNAL and the loop ignores SIGPIPE).
///
/// Thread rule: use a socket from tasklets of one loop (the first one that waits on it).
/// One tasklet may read while another writes; two tasklets reading at once get `.concurrentWait`.
///
/// A subclass of the parking machinery (`SocketDescriptor`, whose public members are this
/// class's), so that a socket is one object: every parked tasklet's socket pays for it.
public final class StreamSocket: SocketDescriptor, @unchecked Sendable {  // confined to one loop's thread, see above
    /// Fairness: a read or write that never has to park yields now and then (see `YieldMeter`).
    var readMeter = YieldMeter()
    var writeMeter = YieldMeter()

    /// Takes ownership of a connected stream socket made elsewhere (inherited, passed over
    /// SCM_RIGHTS, or from a C library). It is switched to non-blocking mode; `close()` closes it.
    /// - Throws: `NetError` if `fd` is not an open descriptor.
    public convenience init(adopting fd: Int32) throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw NetError(errno: errno, operation: "adopt descriptor \(fd)")
        }
        self.init(fd: fd)
    }

    /// The descriptor number, or -1 once closed.
    public var fileDescriptor: Int32 { fd }

    /// Connects to `address` (TCP, or a Unix socket: `SocketAddress(unixPath:)`), parking until
    /// the connection is made. A Unix socket connects at once or fails (no such file:
    /// `ENOENT`; nobody listening: `.connectionRefused`; a full backlog: `EAGAIN`).
    /// - Parameter timeout: how long to wait for the handshake; nil waits as long as the kernel does.
    /// - Parameter address: where to connect.
    /// - Throws: `NetError` (`.connectionRefused`, `.timedOut`, `.networkUnreachable`, ...),
    ///   `CancellationError`. The socket is closed on failure.
    /// Call from a tasklet.
    nonisolated(nonsending) public static func connect(to address: SocketAddress, timeout: Duration? = nil) async throws -> StreamSocket {
        let operation = "connect to \(address)"
        let fd = try SocketDescriptor.openSocket(
            family: address.addressFamily, type: Int32(SOCK_STREAM.rawValue), operation: operation)
        let socket = StreamSocket(fd: fd)
        do {
            switch SystemCalls.tryConnect(socket.fd, to: address) {
            case .done, .end: break
            case .error(let code): throw NetError(errno: code, operation: operation)
            case .wouldBlock:
                try await socket.wait(.write, timeout: timeout, operation: operation)
                let pending = socket.takePendingError()
                if pending != 0 { throw NetError(errno: pending, operation: operation) }
            }
            try? socket.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, operation: "TCP_NODELAY")
            return socket
        } catch {
            socket.close()
            throw error
        }
    }

    /// Two connected stream sockets (`socketpair(AF_UNIX, SOCK_STREAM)`), for talking between
    /// tasklets or to a thread in the same process.
    /// - Throws: `NetError` if the system is out of descriptors.
    public static func makePair() throws -> (StreamSocket, StreamSocket) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
            throw NetError(errno: errno, operation: "socketpair")
        }
        return (
            StreamSocket(fd: fds[0]),
            StreamSocket(fd: fds[1])
        )
    }

    /// Reads up to `buffer.count` bytes into `buffer`, parking until at least one byte is there.
    /// - Parameter timeout: the longest to wait for data (an idle timeout); nil waits forever.
    /// - Parameter buffer: where the bytes go; at most `buffer.count` are read.
    /// - Returns: the number of bytes read; 0 means the peer closed its side (end of stream).
    /// - Throws: `NetError` (`.connectionReset`, `.timedOut`, `.closed`, ...), `CancellationError`.
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration? = nil) async throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if let n = try receiveNow(into: buffer) {
                if readMeter.movedWithoutWaiting(n) { await Tasklet.yield() }
                return n
            }
            readMeter.didWait()
            try await wait(.read, timeout: timeout, operation: "read")
        }
    }

    /// Reads up to `buffer.count` bytes into the start of `buffer` (its count is not changed).
    /// - Returns: bytes read; 0 at end of stream. - Throws: as `read(into:timeout:)`.
    nonisolated(nonsending) public func read(into buffer: inout [UInt8], timeout: Duration? = nil) async throws -> Int {
        guard !buffer.isEmpty else { return 0 }
        while true {
            // The array is borrowed only inside this synchronous call, never across the wait.
            if let n = try buffer.withUnsafeMutableBytes({ try receiveNow(into: $0) }) {
                if readMeter.movedWithoutWaiting(n) { await Tasklet.yield() }
                return n
            }
            readMeter.didWait()
            try await wait(.read, timeout: timeout, operation: "read")
        }
    }

    /// Reads whatever arrives next, up to `maxBytes`. The array is made only once bytes are
    /// there: a tasklet parked here holds no buffer (every parked reader would otherwise pay for
    /// `maxBytes` while it waits).
    /// - Returns: the bytes; empty at end of stream. - Throws: as `read(into:timeout:)`.
    nonisolated(nonsending) public func read(maxBytes: Int, timeout: Duration? = nil) async throws -> [UInt8] {
        guard maxBytes > 0 else { return [] }
        while true {
            if let bytes = try receiveArrayNow(maxBytes: maxBytes) {
                if readMeter.movedWithoutWaiting(bytes.count) { await Tasklet.yield() }
                return bytes
            }
            readMeter.didWait()
            try await wait(.read, timeout: timeout, operation: "read")
        }
    }

    /// One non-blocking recv into a new array of capacity `maxBytes` (not zero-filled first):
    /// the bytes (empty at end of stream), or nil when nothing is there yet (the array is freed).
    private func receiveArrayNow(maxBytes: Int) throws -> [UInt8]? {
        var wouldBlock = false
        let bytes = try [UInt8](unsafeUninitializedCapacity: maxBytes) { buffer, count in
            count = 0
            guard let n = try receiveNow(into: UnsafeMutableRawBufferPointer(buffer)) else {
                wouldBlock = true
                return
            }
            count = n
        }
        return wouldBlock ? nil : bytes
    }

    /// One non-blocking recv: the byte count (0 at end of stream), or nil when nothing is there yet.
    @inline(__always)
    private func receiveNow(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        let fd = self.fd
        guard fd >= 0 else { throw NetError.closed("read") }
        switch SystemCalls.tryReceive(fd, into: buffer) {
        case .done(let n): return n
        case .end: return 0
        case .wouldBlock: return nil
        case .error(let code): throw NetError(errno: code, operation: "read")
        }
    }

    /// Reads exactly `count` bytes.
    /// - Throws: `NetError` of kind `.unexpectedEOF` (its context says how many bytes came) if the
    ///   stream ends first; otherwise as `read(into:timeout:)`. The timeout applies to each wait.
    nonisolated(nonsending) public func read(exactly count: Int, timeout: Duration? = nil) async throws -> [UInt8] {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
        defer { storage.deallocate() }
        var filled = 0
        while filled < count {
            let n = try await read(into: UnsafeMutableRawBufferPointer(rebasing: storage[filled..<count]), timeout: timeout)
            if n == 0 {
                throw NetError(
                    kind: .unexpectedEOF, errno: 0, operation: "read exactly \(count) bytes",
                    context: "the peer closed the stream after \(filled) bytes")
            }
            filled += n
        }
        return Array(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// Writes every byte of `bytes`, parking while the socket's send buffer is full.
    /// - Parameter timeout: the longest to wait for buffer space at a time; nil waits forever.
    /// - Parameter bytes: the bytes to send, all of them.
    /// - Throws: `NetError` (`.brokenPipe`, `.connectionReset`, `.timedOut`, `.closed`),
    ///   `CancellationError`. Some bytes may have been sent before an error.
    nonisolated(nonsending) public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration? = nil) async throws {
        var offset = 0
        while offset < bytes.count {
            let fd = self.fd
            guard fd >= 0 else { throw NetError.closed("write") }
            switch SystemCalls.trySend(fd, UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .done(let n): offset += n
            case .end: break  // only reads end; a send reports .done or an error
            case .wouldBlock:
                writeMeter.didWait()
                try await wait(.write, timeout: timeout, operation: "write")
            case .error(let code): throw NetError(errno: code, operation: "write")
            }
        }
        if writeMeter.movedWithoutWaiting(bytes.count) { await Tasklet.yield() }
    }

    /// Writes every byte of `bytes`. - Throws: as `write(_:timeout:)` with a raw buffer.
    nonisolated(nonsending) public func write(_ bytes: [UInt8], timeout: Duration? = nil) async throws {
        // Copy out so no borrow of the caller's array spans the suspension points.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        defer { copy.deallocate() }
        bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
        try await write(UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), timeout: timeout)
    }

    /// Writes a string as UTF-8. - Throws: as `write(_:timeout:)`.
    nonisolated(nonsending) public func write(_ text: String, timeout: Duration? = nil) async throws {
        try await write(Array(text.utf8), timeout: timeout)
    }

    /// Parks until the socket is readable, an error is pending on it, or `timeout` passes.
    /// For protocol layers that drive the descriptor themselves (TLS: `SSL_ERROR_WANT_READ`).
    /// - Throws: `NetError` (`.timedOut`, `.closed`), `CancellationError`. Call from a tasklet.
    nonisolated(nonsending) public func waitUntilReadable(timeout: Duration? = nil, operation: String = "read") async throws {
        try await wait(.read, timeout: timeout, operation: operation)
    }

    /// Parks until the socket is writable, an error is pending on it, or `timeout` passes.
    /// - Throws: as `waitUntilReadable`. Call from a tasklet.
    nonisolated(nonsending) public func waitUntilWritable(timeout: Duration? = nil, operation: String = "write") async throws {
        try await wait(.write, timeout: timeout, operation: operation)
    }

    /// Shuts down one or both directions; `.write` sends end-of-stream to the peer.
    /// - Throws: `NetError` (`ENOTCONN` if the peer is gone).
    public func shutdown(_ how: ShutdownHow) throws {
        guard fd >= 0 else { throw NetError.closed("shutdown") }
        let value: Int32
        switch how {
        case .read: value = Int32(SHUT_RD)
        case .write: value = Int32(SHUT_WR)
        case .both: value = Int32(SHUT_RDWR)
        }
        if Glibc.shutdown(fd, value) != 0 { throw NetError(errno: errno, operation: "shutdown") }
    }

    /// Sets SO_LINGER to 0 so that `close()` resets the connection (the peer gets ECONNRESET).
    public func setLingerZero() throws {
        var option = linger(l_onoff: 1, l_linger: 0)
        if setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size)) != 0 {
            throw NetError(errno: errno, operation: "setsockopt SO_LINGER")
        }
    }
}

/// A stream socket is usually TCP; the name reads better at call sites that connect over TCP.
public typealias TCPSocket = StreamSocket
