import NetCore

/// TLS for threads that may block (worker threads, the blocking engine) over any
/// `BlockingByteStream`: a `BlockingSocket`, a proxy tunnel, or another `BlockingTLSStream`.
/// A `TLSMachine` does the TLS; this driver only moves its ciphertext, blocking in the
/// transport's calls with the caller's timeout.
///
/// Errors: `TLSError` for TLS failures; the transport's for its own (`NetError` `.timedOut`,
/// `.connectionReset`, `.closed`, ...).
///
/// Memory: a `TLSPump`'s, as `TLSStream`.
///
/// Thread rule: one thread at a time; never on a loop's thread (it would stall the loop).
public final class BlockingTLSStream: BlockingByteStream, @unchecked Sendable {  // one thread at a time, see above
    /// The stream underneath, owned: `close()` closes it.
    package let transport: any BlockingByteStream
    private let pump: TLSPump
    private var isClosed = false

    /// The descriptor of the socket at the bottom of the transport (-1 once closed), so another
    /// thread can shut it down to wake a blocked call.
    public var fileDescriptor: Int32 { transport.fileDescriptor }

    private init(transport: any BlockingByteStream, pump: TLSPump) {
        self.transport = transport
        self.pump = pump
    }

    /// Starts TLS as the client over a connected transport and completes the handshake.
    /// - Parameters:
    ///   - transport: any blocking byte stream: a `BlockingSocket`, a CONNECT tunnel, another
    ///     `BlockingTLSStream`.
    ///   - serverName: the host name sent as SNI and checked against the certificate, or an
    ///     IPv4/IPv6 literal (checked against the certificate's IP addresses; no SNI).
    ///   - timeout: the longest the whole handshake may take; nil waits forever.
    /// - Parameter context: the TLS context (configuration, trusted CAs, certificate) the session is made from.
    /// - Returns: the stream, which owns the transport from now on.
    /// - Throws: `TLSError` (`.certificateVerificationFailed`, `.hostnameMismatch`,
    ///   `.handshakeFailed`, `.configuration`), `NetError` (`.timedOut`, ...). The transport is
    ///   closed on failure.
    /// Blocks the calling thread.
    public static func connect(
        over transport: any BlockingByteStream, context: TLSContext, serverName: String, timeout: Duration?
    ) throws -> BlockingTLSStream {
        try start(over: transport, context: context, role: .client(serverName: serverName), timeout: timeout)
    }

    /// Starts TLS as the server over an accepted transport and completes the handshake.
    /// - Throws: `TLSError` (`.handshakeFailed`, `.configuration`), `NetError`. The transport is
    ///   closed on failure.
    /// Blocks the calling thread.
    public static func accept(over transport: any BlockingByteStream, context: TLSContext, timeout: Duration?) throws -> BlockingTLSStream {
        try start(over: transport, context: context, role: .server, timeout: timeout)
    }

    private static func start(
        over transport: any BlockingByteStream, context: TLSContext, role: TLSMachine.Role, timeout: Duration?
    ) throws -> BlockingTLSStream {
        var made: BlockingTLSStream?
        do {
            let pump = try TLSPump(context: context, role: role, handshakeTimeout: timeout)
            let stream = BlockingTLSStream(transport: transport, pump: pump)
            made = stream
            while try stream.perform(try pump.handshakeAction(), timeout: try pump.handshakeTimeLeft(), during: pump.handshake) == nil {}
            return stream
        } catch {
            // A refused handshake leaves OpenSSL's alert queued: send what fits now (a zero
            // timeout), so the peer learns why (a version it lacks, a certificate refused).
            if error is TLSError, let made, !made.pump.isBroken {
                while (try? made.perform(made.pump.flushAction(), timeout: .zero, during: .write)) == .some(nil) {}
            }
            transport.close()
            throw error
        }
    }

    /// Reads decrypted bytes, up to `buffer.count`, blocking until at least one is there.
    /// - Parameter timeout: the longest to wait at a time for the transport; nil waits forever;
    ///   zero never waits (then `NetError` `.timedOut` when nothing is there).
    /// - Parameter buffer: where the bytes go; at most `buffer.count` are read.
    /// - Returns: the byte count; 0 at end of stream (close_notify or the transport's end;
    ///   after the latter `endedWithoutCloseNotify` is true).
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.timedOut`, `.closed`, ...).
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        guard !isClosed else { throw NetError.closed("TLS read") }
        while true {
            if let count = try perform(try pump.readAction(into: buffer), timeout: timeout, during: .read) { return count }
        }
    }

    /// Encrypts and writes every byte, a record per transport write.
    /// - Parameter timeout: the longest to wait at a time for the transport; nil waits forever.
    /// - Parameter bytes: the bytes to send, all of them.
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.brokenPipe`, `.timedOut`, ...).
    public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) throws {
        guard !isClosed else { throw NetError.closed("TLS write") }
        var taken = 0
        while try perform(try pump.writeAction(bytes, taken: &taken), timeout: timeout, during: .write) == nil {}
    }

    /// Sends close_notify if it can go out without waiting (once), then closes the transport.
    /// Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if !pump.isBroken, pump.machine.queueCloseNotify() {
            // A zero timeout: what does not fit now is dropped, as is any error (closing anyway).
            while (try? perform(pump.flushAction(), timeout: .zero, during: .write)) == .some(nil) {}
        }
        transport.close()
    }

    /// As `TLSStream.isReusable`: feeds what already arrived (reading with a zero timeout),
    /// then asks the machine. Never blocks.
    public var isReusable: Bool {
        guard !isClosed else { return false }
        return pump.isIdle { buffer in
            do { return try transport.read(into: buffer, timeout: .zero) } catch let error as NetError where error.kind == .timedOut {
                return nil  // nothing (more) there: the usual case for an idle connection
            }
        }
    }

    /// True once a read returned end of stream because the transport ended without the
    /// peer's close_notify: what was read is authentic but may be cut short.
    public var endedWithoutCloseNotify: Bool { pump.machine.endedWithoutCloseNotify }

    /// The negotiated protocol version, such as "TLSv1.3".
    public var protocolVersion: String { pump.machine.protocolVersion }

    /// The ALPN protocol agreed on ("http/1.1"), or nil for none.
    public var negotiatedApplicationProtocol: String? { pump.machine.negotiatedApplicationProtocol }

    /// The peer's certificates (DER, leaf first, as sent); a server sees the client's here.
    public var peerCertificateChain: [[UInt8]] { pump.machine.peerCertificateChain }

    /// Performs one of the pump's actions on the transport, blocking in its calls.
    /// - Returns: the count of a `.done`; nil after a send or a receive.
    private func perform(_ action: TLSPump.Action, timeout: Duration?, during operation: TLSDriverOperation) throws -> Int? {
        switch action {
        case .done(let count): return count
        case .send(let bytes):
            do { try transport.write(bytes, timeout: timeout) } catch {
                throw pump.transportFailed(error, receiving: false, during: operation)
            }
            pump.sent(bytes.count)
        case .receive(let buffer):
            let count: Int
            do { count = try transport.read(into: buffer, timeout: timeout) } catch {
                throw pump.transportFailed(error, receiving: true, during: operation)
            }
            try pump.received(count)
        }
        return nil
    }
}
