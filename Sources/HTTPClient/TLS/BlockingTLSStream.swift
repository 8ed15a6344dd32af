import NetCore

/// TLS over a `BlockingSocket`, for threads that may block (worker threads, the blocking
/// engine). Whenever OpenSSL needs the socket to become readable or writable, the thread
/// waits in `poll` with the caller's timeout.
///
/// Errors: `TLSError` for TLS failures; `NetError` for socket ones (`.timedOut`,
/// `.connectionReset`, `.closed`, ...).
///
/// Thread rule: one thread at a time; never on a loop's thread (it would stall the loop).
public final class BlockingTLSStream: BlockingByteStream, @unchecked Sendable {  // one thread at a time, see above
    /// The socket underneath, owned: `close()` closes it.
    let socket: BlockingSocket

    /// The TCP socket's descriptor.
    public var fileDescriptor: Int32 { socket.fileDescriptor }
    let connection: TLSConnection
    private var isClosed = false

    private init(socket: BlockingSocket, connection: TLSConnection) {
        self.socket = socket
        self.connection = connection
    }

    /// Starts TLS as the client over a connected socket and completes the handshake.
    /// - Parameters:
    ///   - serverName: the host name sent as SNI and checked against the certificate, or an
    ///     IPv4/IPv6 literal (checked against the certificate's IP addresses; no SNI).
    ///   - timeout: the longest the whole handshake may take; nil waits forever.
    /// - Returns: the stream, which owns the socket from now on.
    /// - Throws: `TLSError` (`.certificateVerificationFailed`, `.hostnameMismatch`,
    ///   `.handshakeFailed`, `.configuration`), `NetError` (`.timedOut`, ...). The socket is
    ///   closed on failure.
    /// Blocks the calling thread.
    public static func connect(
        over socket: BlockingSocket, context: TLSContext, serverName: String, timeout: Duration?
    ) throws -> BlockingTLSStream {
        try start(over: socket, context: context, role: .client(serverName: serverName), timeout: timeout)
    }

    /// Starts TLS as the server over an accepted socket and completes the handshake.
    /// - Throws: `TLSError` (`.handshakeFailed`, `.configuration`), `NetError`. The socket is
    ///   closed on failure.
    /// Blocks the calling thread.
    public static func accept(over socket: BlockingSocket, context: TLSContext, timeout: Duration?) throws -> BlockingTLSStream {
        try start(over: socket, context: context, role: .server, timeout: timeout)
    }

    private static func start(
        over socket: BlockingSocket, context: TLSContext, role: TLSConnection.Role, timeout: Duration?
    ) throws -> BlockingTLSStream {
        do {
            let connection = try TLSConnection(context: context, fileDescriptor: socket.fileDescriptor, role: role)
            let deadline = TLSDeadline(timeout: timeout, operation: connection.peerDescription)
            while true {
                switch try connection.handshake() {
                case .done:
                    return BlockingTLSStream(socket: socket, connection: connection)
                case .wantRead:
                    try socket.wait(.readable, timeout: try deadline.remaining(), operation: connection.peerDescription)
                case .wantWrite:
                    try socket.wait(.writable, timeout: try deadline.remaining(), operation: connection.peerDescription)
                }
            }
        } catch {
            socket.close()
            throw error
        }
    }

    /// Reads decrypted bytes, up to `buffer.count`, blocking until at least one is there.
    /// - Parameter timeout: the longest to wait at a time for the socket; nil waits forever.
    /// - Returns: the byte count; 0 at end of stream (close_notify or a plain TCP close; after
    ///   the latter `endedWithoutCloseNotify` is true).
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.timedOut`, `.closed`, ...).
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            // The SSL object still holds the descriptor number, which may be reused once closed.
            guard !isClosed, socket.fileDescriptor >= 0 else { throw NetError.closed("TLS read") }
            switch try connection.read(into: buffer) {
            case .done(let count): return count
            case .wantRead: try socket.wait(.readable, timeout: timeout, operation: "TLS read")
            case .wantWrite: try socket.wait(.writable, timeout: timeout, operation: "TLS read")
            }
        }
    }

    /// Encrypts and writes every byte.
    /// - Parameter timeout: the longest to wait at a time for the socket; nil waits forever.
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.brokenPipe`, `.timedOut`, ...).
    public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) throws {
        var offset = 0
        while offset < bytes.count {
            guard !isClosed, socket.fileDescriptor >= 0 else { throw NetError.closed("TLS write") }
            switch try connection.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .done(let count): offset += count
            case .wantRead: try socket.wait(.readable, timeout: timeout, operation: "TLS write")
            case .wantWrite: try socket.wait(.writable, timeout: timeout, operation: "TLS write")
            }
        }
    }

    /// Sends close_notify if it can go out without waiting (once), then closes the socket.
    /// Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if socket.fileDescriptor >= 0 { connection.sendCloseNotify() }
        socket.close()
    }

    /// As `TLSStream.isReusable`. Never blocks.
    public var isReusable: Bool {
        guard !isClosed, socket.fileDescriptor >= 0 else { return false }
        return connection.isIdle(socketIsIdle: DescriptorProbe.isIdleAndOpen(socket.fileDescriptor))
    }

    /// True once a read returned end of stream because the TCP connection ended without the
    /// peer's close_notify: what was read is authentic but may be cut short.
    public var endedWithoutCloseNotify: Bool { connection.endedWithoutCloseNotify }

    /// The negotiated protocol version, such as "TLSv1.3".
    public var protocolVersion: String { connection.protocolVersion }
}
