import NetCore

/// A connection the loop engine (`Client`) talks over: a plain `StreamSocket`, TLS on one, or
/// TLS on another TLS stream (an HTTPS proxy). `TLSStream` runs over any conforming stream.
///
/// Thread rule: as `StreamSocket`, confined to the loop whose tasklets first wait on it.
public protocol AsyncByteStream: AnyObject {
    /// Reads what is there, up to `buffer.count` bytes, parking until at least one byte arrives.
    /// - Parameter timeout: the longest to wait for a byte (an idle timeout); nil waits forever.
    /// - Parameter buffer: where the bytes go; at most `buffer.count` are read.
    /// - Returns: the byte count; 0 at end of stream.
    /// - Throws: `NetError` (`.timedOut`, `.connectionReset`, `.closed`, ...), `TLSError`,
    ///   `CancellationError`.
    nonisolated(nonsending) func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) async throws -> Int
    /// Writes every byte, parking while the peer is not reading. - Throws: as `read`.
    nonisolated(nonsending) func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) async throws
    /// Closes the connection (a TLS stream sends close_notify first when it can without waiting).
    func close()
    /// Whether an idle connection can carry another request: open, and the peer has neither
    /// closed it nor sent bytes nobody asked for. Never waits.
    var isReusable: Bool { get }
    /// True after a read returned 0 for an end of stream that is not authenticated: a TLS
    /// stream whose transport ended without close_notify. Always false for plain TCP.
    var endedWithoutCloseNotify: Bool { get }
    /// Reads what already arrived, up to `buffer.count` bytes, never parking: what a TLS
    /// stream on top uses to look for a session ticket or an alert while the connection idles.
    /// - Returns: the byte count (> 0); 0 at end of stream; nil when nothing is there yet (or
    ///   `buffer` is empty).
    /// - Throws: as `read`. The default throws unless `isReusable` (then nothing is there).
    /// Loop thread. Cost: one non-blocking system call for a socket.
    func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int?
    /// Writes what fits now, never parking: how `close()` of a stream on top sends its last
    /// bytes (close_notify). A layered stream (TLS) may take the bytes and send them later.
    /// - Returns: the bytes taken, 0 up to `bytes.count`; 0 on any error (the caller is
    ///   closing and has no use for one). The default takes nothing.
    /// Loop thread. Cost: one non-blocking system call for a socket.
    func writeWithoutWaiting(_ bytes: UnsafeRawBufferPointer) -> Int
}

/// A connection the blocking engine (`BlockingClient`) talks over: a `BlockingSocket`, TLS on
/// one, or TLS on another TLS stream. Every call blocks the calling thread (a worker thread,
/// never a loop's thread). `BlockingTLSStream` runs over any conforming stream, and relies on
/// one rule: a `timeout` of zero never waits (it throws `NetError` of kind `.timedOut` when
/// the call cannot finish at once).
public protocol BlockingByteStream: AnyObject {
    /// Reads what is there, up to `buffer.count` bytes, blocking until at least one byte arrives.
    /// - Returns: the byte count; 0 at end of stream.
    /// - Throws: `NetError` (`.timedOut` when `timeout` passes with no byte), `TLSError`.
    func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int
    /// Writes every byte. - Throws: as `read`.
    func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) throws
    /// Closes the connection.
    func close()
    /// As `AsyncByteStream.isReusable`.
    var isReusable: Bool { get }
    /// As `AsyncByteStream.endedWithoutCloseNotify`.
    var endedWithoutCloseNotify: Bool { get }
    /// The socket underneath (-1 once closed), so another thread can shut it down to wake a
    /// blocked call (`BlockingCancellation`).
    var fileDescriptor: Int32 { get }
}

extension StreamSocket: AsyncByteStream {
    /// True when the socket is open with nothing unread: it may go back to a connection pool.
    public var isReusable: Bool { isIdleAndOpen }

    /// See `AsyncByteStream.readWithoutWaiting`: `receiveWithoutWaiting`, one non-blocking `recv`.
    public func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try receiveWithoutWaiting(into: buffer)
    }

    /// See `AsyncByteStream.writeWithoutWaiting`: `sendWithoutWaiting`, one non-blocking `send`.
    public func writeWithoutWaiting(_ bytes: UnsafeRawBufferPointer) -> Int { sendWithoutWaiting(bytes) }
}

extension AsyncByteStream {
    /// Plain TCP has no authenticated close: its end of stream is all there is.
    public var endedWithoutCloseNotify: Bool { false }

    /// Knows only what `isReusable` says: nothing there when it is true; otherwise it cannot
    /// tell an unread byte from an end, and throws.
    public func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard isReusable else {
            throw NetError(kind: .other, errno: 0, operation: "read without waiting", context: "\(Self.self) cannot peek")
        }
        return nil
    }

    /// Takes nothing: a stream that cannot write without parking sends no last bytes on close.
    public func writeWithoutWaiting(_ bytes: UnsafeRawBufferPointer) -> Int { 0 }
}

extension BlockingByteStream {
    /// Plain TCP has no authenticated close: its end of stream is all there is.
    public var endedWithoutCloseNotify: Bool { false }
}
