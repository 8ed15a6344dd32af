/// The calls that never park, for a stream layered on the socket (TLS) that looks for a
/// session ticket or an alert while the connection idles, and sends its last bytes on close.
extension StreamSocket {
    /// True when the socket is open, has nothing to read and no pending error: a pooled
    /// connection the peer has not closed (a close shows as end of stream, readable at once).
    /// Any thread. Cost: one system call (`SystemCalls.tryPeek`).
    public var isIdleAndOpen: Bool { !isClosed && SystemCalls.tryPeek(fileDescriptor) == .wouldBlock }

    /// Reads what already arrived, up to `buffer.count` bytes, never parking.
    /// - Returns: the byte count; 0 at end of stream; nil when nothing is there yet (or
    ///   `buffer` is empty).
    /// - Throws: `NetError` (`.closed`, `.connectionReset`, ...). Loop thread.
    /// Cost: one non-blocking `recv` (`SystemCalls.tryReceive`).
    public func receiveWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard buffer.count > 0 else { return nil }
        guard !isClosed else { throw NetError.closed("read") }
        switch SystemCalls.tryReceive(fileDescriptor, into: buffer) {
        case .done(let count): return count
        case .end: return 0
        case .wouldBlock: return nil
        case .error(let code): throw NetError(errno: code, operation: "read")
        }
    }

    /// Sends what the kernel takes now of `bytes`, never parking.
    /// - Returns: the bytes taken; 0 when the socket is full, closed, reset or gone (the
    ///   caller is closing and has no use for the error). Loop thread.
    /// Cost: one non-blocking `send` (`SystemCalls.trySend`).
    public func sendWithoutWaiting(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.count > 0, !isClosed, case .done(let count) = SystemCalls.trySend(fileDescriptor, bytes) else { return 0 }
        return count
    }
}
