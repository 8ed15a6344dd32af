import NetCore

/// A connection the loop engine (`Client`) talks over: a plain `StreamSocket`, or TLS on one.
///
/// Thread rule: as `StreamSocket`, confined to the loop whose tasklets first wait on it.
public protocol AsyncByteStream: AnyObject {
    /// Reads what is there, up to `buffer.count` bytes, parking until at least one byte arrives.
    /// - Parameter timeout: the longest to wait for a byte (an idle timeout); nil waits forever.
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
    /// stream whose TCP connection ended without close_notify. Always false for plain TCP.
    var endedWithoutCloseNotify: Bool { get }
}

/// A connection the blocking engine (`BlockingClient`) talks over: a `BlockingSocket`, or TLS
/// on one. Every call blocks the calling thread (a worker thread, never a loop's thread).
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
    public var isReusable: Bool { !isClosed && DescriptorProbe.isIdleAndOpen(fileDescriptor) }
}

extension AsyncByteStream {
    /// Plain TCP has no authenticated close: its end of stream is all there is.
    public var endedWithoutCloseNotify: Bool { false }
}

extension BlockingByteStream {
    /// Plain TCP has no authenticated close: its end of stream is all there is.
    public var endedWithoutCloseNotify: Bool { false }
}
