#if canImport(Glibc)
    import Glibc
#endif

/// A non-blocking UDP socket: datagrams to and from any address, parking the tasklet while
/// nothing can be sent or received.
///
/// Unconnected, `send(_:to:)` and `receive()` name the peer on every call. After
/// `connect(to:)` the socket talks to one peer: `send(_:)` needs no address, the kernel drops
/// datagrams from anyone else, and an ICMP port-unreachable surfaces as `.connectionRefused`
/// on a later call. The addressed calls keep working on a connected socket.
///
/// Thread rule: use a socket from tasklets of one loop (the first one that waits on it); one
/// tasklet may receive while another sends.
public final class UDPSocket: @unchecked Sendable {  // confined to one loop's thread once waiting
    let descriptor: SocketDescriptor

    /// Creates a socket bound to `address` (port 0 picks a free port).
    /// - Throws: `NetError` (`.addressInUse`, ...).
    public init(bindTo address: SocketAddress) throws {
        descriptor = try SocketDescriptor.open(
            family: address.addressFamily, type: Int32(SOCK_DGRAM.rawValue), operation: "udp socket")
        if address.withSockAddr({ bind(descriptor.fd, $0, $1) }) != 0 {
            let error = NetError(errno: errno, operation: "bind \(address)")
            descriptor.close()
            throw error
        }
    }

    /// Connects the socket to `address`: later `send(_:)` calls go there, and only datagrams from
    /// there are received. UDP has no handshake, so this returns at once; calling it again
    /// changes the peer. Any thread (it makes one system call).
    /// - Throws: `NetError` (`.closed`, `.networkUnreachable`, `.invalidAddress` for a family the
    ///   socket was not made for, ...).
    public func connect(to address: SocketAddress) throws {
        let fd = descriptor.fd
        guard fd >= 0 else { throw NetError.closed("connect datagram socket") }
        let code = SystemCalls.connectDatagram(fd, to: address)
        if code != 0 { throw NetError(errno: code, operation: "connect datagram socket", context: "to \(address)") }
    }

    /// The connected peer. - Throws: `NetError` (errno `ENOTCONN`) before `connect(to:)`, or once closed.
    public func remoteAddress() throws -> SocketAddress { try descriptor.remoteAddress() }

    /// The bound address. - Throws: `NetError` once closed.
    public func localAddress() throws -> SocketAddress { try descriptor.localAddress() }

    /// Sends one datagram.
    /// - Throws: `NetError` (`.messageTooLong` above the path's limit, `.connectionRefused` after an
    ///   ICMP port-unreachable from an earlier datagram, ...), `CancellationError`.
    nonisolated(nonsending) public func send(_ bytes: [UInt8], to address: SocketAddress, timeout: Duration? = nil) async throws {
        while true {
            let fd = descriptor.fd
            guard fd >= 0 else { throw NetError.closed("send datagram") }
            switch bytes.withUnsafeBytes({ SystemCalls.trySend(fd, $0, to: address) }) {
            case .done, .end: return
            case .wouldBlock: try await descriptor.wait(.write, timeout: timeout, operation: "send datagram")
            case .error(let code): throw NetError(errno: code, operation: "send datagram", context: "to \(address)")
            }
        }
    }

    /// Sends one datagram to the connected peer (see `connect(to:)`), parking while the socket's
    /// send buffer is full. Call from a tasklet of the socket's loop.
    /// - Throws: `NetError` (`.other` with `EDESTADDRREQ` when not connected, `.connectionRefused`
    ///   after an ICMP port-unreachable, `.messageTooLong`, `.timedOut`, `.closed`), `CancellationError`.
    nonisolated(nonsending) public func send(_ bytes: [UInt8], timeout: Duration? = nil) async throws {
        while true {
            let fd = descriptor.fd
            guard fd >= 0 else { throw NetError.closed("send datagram") }
            switch bytes.withUnsafeBytes({ SystemCalls.trySend(fd, $0) }) {
            case .done, .end: return
            case .wouldBlock: try await descriptor.wait(.write, timeout: timeout, operation: "send datagram")
            case .error(let code): throw NetError(errno: code, operation: "send datagram", context: "to the connected peer")
            }
        }
    }

    /// Receives one datagram from the connected peer, parking until one arrives. Call from a
    /// tasklet of the socket's loop.
    ///
    /// Disfavoured so that an unannotated `let d = try await socket.receive()` keeps meaning the
    /// addressed form (existing code); write `let bytes: [UInt8] = try await socket.receive()`.
    /// - Parameter maxBytes: a longer datagram is truncated to this size.
    /// - Parameter timeout: the longest to wait for a datagram; nil waits forever.
    /// - Throws: `NetError` (`.connectionRefused` after an ICMP port-unreachable, `.timedOut`,
    ///   `.closed`, ...), `CancellationError`.
    @_disfavoredOverload
    nonisolated(nonsending) public func receive(maxBytes: Int = 65_536, timeout: Duration? = nil) async throws -> [UInt8] {
        try await receive(maxBytes: maxBytes, timeout: timeout).bytes
    }

    /// Sends one datagram now if the socket's send buffer has room, without parking; for
    /// protocols that would rather drop and resend than wait (the reliable channel's acks and
    /// retransmissions, sent from timer callbacks that cannot park). Loop thread.
    /// - Returns: false when the send buffer is full (`EAGAIN`): the datagram was not sent.
    /// - Throws: `NetError` for any other failure.
    package func sendNow(_ bytes: [UInt8], to address: SocketAddress) throws -> Bool {
        while true {
            let fd = descriptor.fd
            guard fd >= 0 else { throw NetError.closed("send datagram") }
            switch bytes.withUnsafeBytes({ SystemCalls.trySend(fd, $0, to: address) }) {
            case .done, .end: return true
            case .wouldBlock: return false
            case .error(let code): throw NetError(errno: code, operation: "send datagram", context: "to \(address)")
            }
        }
    }

    /// Receives one datagram, parking until one arrives.
    /// - Parameter maxBytes: a longer datagram is truncated to this size.
    /// - Parameter timeout: the longest to wait for a datagram; nil waits forever.
    /// - Returns: the payload and the sender's address.
    /// - Throws: `NetError` (`.timedOut`, `.closed`, ...), `CancellationError`.
    nonisolated(nonsending) public func receive(maxBytes: Int = 65_536, timeout: Duration? = nil) async throws -> (
        bytes: [UInt8], from: SocketAddress
    ) {
        // One recvfrom per datagram, into scratch memory on the stack (the heap past a size the
        // runtime picks), then copied into an array of exactly its length: a parked receiver
        // holds no buffer, and a host of many peers pays one syscall per datagram, not a peek
        // for its length and then the read.
        let capacity = max(1, maxBytes)
        while true {
            let fd = descriptor.fd
            guard fd >= 0 else { throw NetError.closed("receive datagram") }
            var storage = sockaddr_storage()
            var addressLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let (result, bytes) = withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { scratch -> (IOResult, [UInt8]) in
                let result = SystemCalls.tryReceiveDatagram(fd, into: scratch, sender: &storage, senderLength: &addressLength)
                guard case .done(let n) = result else { return (result, []) }
                return (result, Array(scratch[..<min(n, capacity)]))
            }
            switch result {
            case .done, .end: break  // a datagram socket has no end; kept exhaustive
            case .wouldBlock:
                try await descriptor.wait(.read, timeout: timeout, operation: "receive datagram")
                continue
            case .error(let code): throw NetError(errno: code, operation: "receive datagram")
            }
            // A datagram from a non-IP peer cannot be answered: skip it.
            guard let sender = SocketAddress(storage: storage, length: addressLength) else { continue }
            return (bytes, sender)
        }
    }

    /// Closes the socket; a parked tasklet gets `NetError` of kind `.closed`.
    public func close() { descriptor.close() }
}
