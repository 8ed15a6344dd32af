import NetCore

/// TLS over a `StreamSocket`, for tasklets (the loop engine). Whenever OpenSSL needs the
/// socket to become readable or writable, the calling tasklet parks on the socket instead of
/// blocking the loop.
///
/// Errors: `TLSError` for TLS failures; `NetError` for socket ones (`.timedOut`,
/// `.connectionReset`, `.closed`, ...); `CancellationError`.
///
/// Thread rule: as `StreamSocket`, confined to one loop's thread. One tasklet may read while
/// another writes.
public final class TLSStream: AsyncByteStream, @unchecked Sendable {  // confined to one loop's thread, see above
    /// Fairness, as for `StreamSocket`: bytes moved without parking make the tasklet yield now and then.
    private var readMeter = YieldMeter()
    private var writeMeter = YieldMeter()
    /// The socket underneath, owned: `close()` closes it.
    let socket: StreamSocket
    let connection: TLSConnection
    private var isClosed = false

    private init(socket: StreamSocket, connection: TLSConnection) {
        self.socket = socket
        self.connection = connection
    }

    /// Starts TLS as the client over a connected socket and completes the handshake, parking
    /// as needed.
    /// - Parameters:
    ///   - serverName: the host name sent as SNI and checked against the certificate, or an
    ///     IPv4/IPv6 literal (checked against the certificate's IP addresses; no SNI).
    ///   - timeout: the longest the whole handshake may take; nil waits forever.
    /// - Returns: the stream, which owns the socket from now on.
    /// - Throws: `TLSError` (`.certificateVerificationFailed`, `.hostnameMismatch`,
    ///   `.handshakeFailed`, `.configuration`), `NetError` (`.timedOut`, `.connectionReset`, ...),
    ///   `CancellationError`. The socket is closed on failure.
    /// Call from a tasklet.
    nonisolated(nonsending) public static func connect(
        over socket: StreamSocket, context: TLSContext, serverName: String, timeout: Duration?
    ) async throws -> TLSStream {
        try await start(over: socket, context: context, role: .client(serverName: serverName), timeout: timeout)
    }

    /// Starts TLS as the server over an accepted socket and completes the handshake.
    /// - Parameter timeout: the longest the whole handshake may take; nil waits forever.
    /// - Throws: `TLSError` (`.handshakeFailed`, `.configuration`), `NetError`,
    ///   `CancellationError`. The socket is closed on failure.
    /// Call from a tasklet.
    nonisolated(nonsending) public static func accept(
        over socket: StreamSocket, context: TLSContext, timeout: Duration?
    ) async throws -> TLSStream {
        try await start(over: socket, context: context, role: .server, timeout: timeout)
    }

    nonisolated(nonsending) private static func start(
        over socket: StreamSocket, context: TLSContext, role: TLSConnection.Role, timeout: Duration?
    ) async throws -> TLSStream {
        do {
            let connection = try TLSConnection(context: context, fileDescriptor: socket.fileDescriptor, role: role)
            let deadline = TLSDeadline(timeout: timeout, operation: connection.peerDescription)
            while true {
                switch try connection.handshake() {
                case .done:
                    return TLSStream(socket: socket, connection: connection)
                case .wantRead:
                    try await socket.waitUntilReadable(timeout: try deadline.remaining(), operation: connection.peerDescription)
                case .wantWrite:
                    try await socket.waitUntilWritable(timeout: try deadline.remaining(), operation: connection.peerDescription)
                }
            }
        } catch {
            socket.close()
            throw error
        }
    }

    /// Reads decrypted bytes, up to `buffer.count`, parking until at least one is there.
    /// - Parameter timeout: the longest to wait at a time for the socket; nil waits forever.
    /// - Returns: the byte count; 0 at end of stream (close_notify or a plain TCP close; after
    ///   the latter `endedWithoutCloseNotify` is true).
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.timedOut`, `.closed`, ...),
    ///   `CancellationError`. Call from a tasklet.
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) async throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            // The SSL object still holds the descriptor number, which may be reused once closed.
            guard !isClosed, !socket.isClosed else { throw NetError.closed("TLS read") }
            switch try connection.read(into: buffer) {
            case .done(let count):
                if readMeter.movedWithoutWaiting(count) { await Tasklet.yield() }
                return count
            case .wantRead:
                readMeter.didWait()
                try await socket.waitUntilReadable(timeout: timeout, operation: "TLS read")
            case .wantWrite:
                readMeter.didWait()
                try await socket.waitUntilWritable(timeout: timeout, operation: "TLS read")
            }
        }
    }

    /// Encrypts and writes every byte, parking while the peer is not reading.
    /// - Parameter timeout: the longest to wait at a time for the socket; nil waits forever.
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.brokenPipe`, `.timedOut`,
    ///   `.closed`, ...), `CancellationError`. Some bytes may have gone out before an error.
    /// Call from a tasklet.
    nonisolated(nonsending) public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) async throws {
        var offset = 0
        while offset < bytes.count {
            guard !isClosed, !socket.isClosed else { throw NetError.closed("TLS write") }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch try connection.write(rest) {
            case .done(let count): offset += count
            case .wantRead:
                writeMeter.didWait()
                try await socket.waitUntilReadable(timeout: timeout, operation: "TLS write")
            case .wantWrite:
                writeMeter.didWait()
                try await socket.waitUntilWritable(timeout: timeout, operation: "TLS write")
            }
        }
        if writeMeter.movedWithoutWaiting(bytes.count) { await Tasklet.yield() }
    }

    /// Sends close_notify if it can go out without waiting (once), then closes the socket; a
    /// tasklet parked on the stream is resumed with `NetError` of kind `.closed`. Idempotent.
    /// Call on the loop's thread.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if !socket.isClosed { connection.sendCloseNotify() }
        socket.close()
    }

    /// Whether the idle connection can carry another request: open, nothing unread, and the
    /// peer has sent neither data, an alert nor end of stream. A TLS 1.3 session ticket that
    /// arrived meanwhile is consumed and does not count. Never waits. Loop thread.
    public var isReusable: Bool {
        guard !isClosed, !socket.isClosed else { return false }
        return connection.isIdle(socketIsIdle: DescriptorProbe.isIdleAndOpen(socket.fileDescriptor))
    }

    /// True once a read returned end of stream because the TCP connection ended without the
    /// peer's close_notify: what was read is authentic but may be cut short.
    public var endedWithoutCloseNotify: Bool { connection.endedWithoutCloseNotify }

    /// The negotiated protocol version, such as "TLSv1.3".
    public var protocolVersion: String { connection.protocolVersion }
}
