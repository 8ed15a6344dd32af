import NetTLS
import NetCore
import Workers

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection for threads that may block (worker threads): the descriptor is
/// non-blocking underneath, and each wait is a `Poll.poll` with the caller's timeout, so a
/// pending socket error ends the wait and the next call raises it (`NetError`).
///
/// Thread rule: one thread at a time; never on a loop's thread (it would stall the loop).
public final class BlockingSocket: BlockingByteStream, @unchecked Sendable {  // one thread at a time, see above
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

    /// Connects to `address`, blocking up to `timeout` for the handshake.
    /// - Throws: `NetError` (`.connectionRefused`, `.timedOut`, ...). Nothing leaks on failure.
    public static func connect(to address: SocketAddress, timeout: Duration?) throws -> BlockingSocket {
        let operation = "connect to \(address)"
        let fd = socket(address.addressFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetError(errno: errno, operation: operation) }
        let connection = try BlockingSocket(adopting: fd)
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 {
            let code = errno
            guard code == EINPROGRESS || code == EINTR else { throw NetError(errno: code, operation: operation) }
            try connection.wait(.writable, timeout: timeout, operation: operation)
            var pending: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length)
            if pending != 0 { throw NetError(errno: pending, operation: operation) }
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return connection
    }

    /// Resolves `host` on this thread (getaddrinfo) and connects to its addresses in the
    /// system's order. - Throws: `ResolverError`; the last address's `NetError`.
    public static func connect(host: String, port: UInt16, timeout: Duration?) throws -> BlockingSocket {
        var lastError: (any Error)?
        for address in try Resolver.lookUp(host: host, port: port) {
            do {
                return try connect(to: address, timeout: timeout)
            } catch let error as NetError {
                lastError = error
            }
        }
        throw lastError ?? NetError(kind: .other, errno: 0, operation: "connect to \(host)", context: "no address")
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            guard fileDescriptor >= 0 else { throw NetError.closed("read") }
            let n = recv(fileDescriptor, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            switch errno {
            case EAGAIN, EWOULDBLOCK: try wait(.readable, timeout: timeout, operation: "read")
            case EINTR: continue
            case let code: throw NetError(errno: code, operation: "read")
            }
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) throws {
        var offset = 0
        while offset < bytes.count {
            guard fileDescriptor >= 0 else { throw NetError.closed("write") }
            let n = send(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))  // count > 0 here
            if n >= 0 {
                offset += n
                continue
            }
            switch errno {
            case EAGAIN, EWOULDBLOCK: try wait(.writable, timeout: timeout, operation: "write")
            case EINTR: continue
            case let code: throw NetError(errno: code, operation: "write")
            }
        }
    }

    /// Blocks until the descriptor is ready for `events` (or has a pending error).
    /// - Throws: `NetError` of kind `.timedOut` when `timeout` passes first.
    public func wait(_ events: PollEvents, timeout: Duration?, operation: String) throws {
        let ready = try Poll.poll([PollRequest(fd: fileDescriptor, events: events)], timeout: timeout)
        if ready.isEmpty, let timeout { throw NetError.timedOut(operation, after: timeout) }
    }

    public func close() {
        if fileDescriptor >= 0 {
            Glibc.close(fileDescriptor)
            fileDescriptor = -1
        }
    }

    public var isReusable: Bool { DescriptorProbe.isIdleAndOpen(fileDescriptor) }
}
