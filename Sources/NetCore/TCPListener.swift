#if canImport(Glibc)
    import Glibc
#endif

/// A listening TCP socket: bind, listen, and accept connections as `StreamSocket`s. Bound to a
/// `SocketAddress(unixPath:)` it listens on a Unix domain socket instead: bind creates the
/// socket file (it must not exist yet: `.addressInUse`), and the owner removes it after `close()`.
///
/// Created on any thread; `accept()` parks a tasklet of the loop it is first called on.
public final class TCPListener: @unchecked Sendable {  // confined to one loop's thread once accepting
    let descriptor: SocketDescriptor

    /// Binds to `address` and listens. Port 0 picks a free port: read it from `localAddress`.
    /// - Parameter backlog: the kernel's queue of connections not yet accepted.
    /// - Parameter address: the local address to bind to (port 0: any free port).
    /// - Throws: `NetError` (`.addressInUse`, `.addressNotAvailable`, ...).
    public init(bindTo address: SocketAddress, backlog: Int32 = 511) throws {
        let operation = "listen on \(address)"
        descriptor = try SocketDescriptor.open(
            family: address.addressFamily, type: Int32(SOCK_STREAM.rawValue), operation: operation)
        do {
            try descriptor.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, operation: operation)
            if address.family == .ipv6 {
                try descriptor.setOption(level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1, operation: operation)
            }
            if address.withSockAddr({ bind(descriptor.fd, $0, $1) }) != 0 {
                throw NetError(errno: errno, operation: "bind \(address)")
            }
            if listen(descriptor.fd, backlog) != 0 {
                throw NetError(errno: errno, operation: operation)
            }
        } catch {
            descriptor.close()
            throw error
        }
    }

    /// The bound address, with the real port when 0 was asked for.
    /// - Throws: `NetError` once closed.
    public func localAddress() throws -> SocketAddress { try descriptor.localAddress() }

    /// The bound port (0 once closed).
    public var port: UInt16 { (try? descriptor.localAddress().port) ?? 0 }

    /// Accepts the next connection, parking until one arrives.
    /// - Parameter timeout: the longest to wait; nil waits forever.
    /// - Throws: `NetError` (`.closed` if the listener is closed meanwhile, `.timedOut`, EMFILE...),
    ///   `CancellationError`.
    nonisolated(nonsending) public func accept(timeout: Duration? = nil) async throws -> StreamSocket {
        while true {
            let fd = descriptor.fd
            guard fd >= 0 else { throw NetError.closed("accept") }
            switch SystemCalls.tryAccept(fd) {
            case .done(let client):
                let socket = StreamSocket(fd: Int32(client))
                try? socket.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, operation: "TCP_NODELAY")
                return socket
            case .end: continue  // accept never ends; kept exhaustive
            case .wouldBlock: try await descriptor.wait(.read, timeout: timeout, operation: "accept")
            // A connection that died in the queue is not the listener's failure: take the next.
            case .error(ECONNABORTED), .error(EPROTO): continue
            case .error(let code): throw NetError(errno: code, operation: "accept")
            }
        }
    }

    /// Stops listening. A tasklet parked in `accept()` gets `NetError` of kind `.closed`.
    public func close() { descriptor.close() }
}
