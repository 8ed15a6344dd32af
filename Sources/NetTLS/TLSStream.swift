import NetCore

/// TLS for tasklets (the loop engine) over any `AsyncByteStream`: a `StreamSocket`, a proxy
/// tunnel, or another `TLSStream` (TLS inside TLS). A `TLSMachine` does the TLS; this driver
/// only moves its ciphertext to and from the transport, parking in the transport's calls
/// instead of blocking the loop.
///
/// Errors: `TLSError` for TLS failures; the transport's for its own (`NetError` `.timedOut`,
/// `.connectionReset`, `.closed`, ...); `CancellationError`.
///
/// Memory: a `TLSPump`'s (a record of ciphertext each way; more during a bulk transfer).
///
/// Thread rule: as the transport (a `StreamSocket` is confined to one loop's thread). One
/// tasklet may read while another writes; not two readers, nor two writers.
public final class TLSStream: AsyncByteStream, @unchecked Sendable {  // confined to one loop's thread, see above
    /// Fairness, as for `StreamSocket`: plaintext served from ciphertext already read makes the
    /// tasklet yield now and then. (Writes always go through the transport, which yields itself.)
    private var readMeter = YieldMeter()
    /// The stream underneath, owned: `close()` closes it.
    package let transport: any AsyncByteStream
    private let pump: TLSPump
    /// A tasklet is in `transport.write`: nobody else may send, or records would interleave.
    private var isFlushing = false
    /// A tasklet is in `transport.read`: a reuse probe must not take bytes it waits for.
    private var isReading = false
    private var isClosed = false

    private init(transport: any AsyncByteStream, pump: TLSPump) {
        self.transport = transport
        self.pump = pump
    }

    /// Starts TLS as the client over a connected transport and completes the handshake,
    /// parking as needed.
    /// - Parameters:
    ///   - transport: any byte stream: a `StreamSocket`, a CONNECT tunnel, another `TLSStream`.
    ///   - serverName: the host name sent as SNI and checked against the certificate, or an
    ///     IPv4/IPv6 literal (checked against the certificate's IP addresses; no SNI).
    ///   - timeout: the longest the whole handshake may take; nil waits forever.
    /// - Parameter context: the TLS context (configuration, trusted CAs, certificate) the session is made from.
    /// - Returns: the stream, which owns the transport from now on.
    /// - Throws: `TLSError` (`.certificateVerificationFailed`, `.hostnameMismatch`,
    ///   `.handshakeFailed`, `.configuration`), `NetError` (`.timedOut`, `.connectionReset`, ...),
    ///   `CancellationError`. The transport is closed on failure.
    /// Call from a tasklet.
    nonisolated(nonsending) public static func connect(
        over transport: any AsyncByteStream, context: TLSContext, serverName: String, timeout: Duration?
    ) async throws -> TLSStream {
        try await start(over: transport, context: context, role: .client(serverName: serverName), timeout: timeout)
    }

    /// Starts TLS as the server over an accepted transport and completes the handshake.
    /// - Parameter timeout: the longest the whole handshake may take; nil waits forever.
    /// - Parameter context: the TLS context (configuration, trusted CAs, certificate) the session is made from.
    /// - Parameter transport: the connected byte stream TLS runs over; the stream owns it from now on.
    /// - Throws: `TLSError` (`.handshakeFailed`, `.configuration`), `NetError`,
    ///   `CancellationError`. The transport is closed on failure.
    /// Call from a tasklet.
    nonisolated(nonsending) public static func accept(
        over transport: any AsyncByteStream, context: TLSContext, timeout: Duration?
    ) async throws -> TLSStream {
        try await start(over: transport, context: context, role: .server, timeout: timeout)
    }

    nonisolated(nonsending) private static func start(
        over transport: any AsyncByteStream, context: TLSContext, role: TLSMachine.Role, timeout: Duration?
    ) async throws -> TLSStream {
        var made: TLSStream?
        do {
            let pump = try TLSPump(context: context, role: role, handshakeTimeout: timeout)
            let stream = TLSStream(transport: transport, pump: pump)
            made = stream
            while true {
                let action = try pump.handshakeAction()
                if case .done = action { return stream }
                _ = try await stream.perform(action, timeout: try pump.handshakeTimeLeft(), during: pump.handshake)
            }
        } catch {
            // A refused handshake leaves OpenSSL's alert queued: send what fits now, without
            // waiting, so the peer learns why (a version it lacks, a certificate refused).
            if error is TLSError, let made, !made.pump.isBroken { made.sendWithoutWaiting() }
            transport.close()
            throw error
        }
    }

    /// Reads decrypted bytes, up to `buffer.count`, parking until at least one is there.
    /// - Parameter timeout: the longest to wait at a time for the transport; nil waits forever.
    /// - Parameter buffer: where the bytes go; at most `buffer.count` are read.
    /// - Returns: the byte count; 0 at end of stream (close_notify or the transport's end;
    ///   after the latter `endedWithoutCloseNotify` is true).
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.timedOut`, `.closed`, ...),
    ///   `CancellationError`. Call from a tasklet.
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) async throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            guard !isClosed else { throw NetError.closed("TLS read") }
            let action = try pump.readAction(into: buffer)
            if case .done(let count) = action {
                if readMeter.movedWithoutWaiting(count) { await Tasklet.yield() }
                return count
            }
            // What a read produced (an answer to a key update) goes now if it fits, else
            // with the next write.
            if !isFlushing { sendWithoutWaiting() }
            readMeter.didWait()
            _ = try await perform(action, timeout: timeout, during: .read)
        }
    }

    /// Encrypts and writes every byte, parking while the peer is not reading.
    /// - Parameter timeout: the longest to wait at a time for the transport; nil waits forever.
    /// - Parameter bytes: the bytes to send, all of them.
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.brokenPipe`, `.timedOut`,
    ///   `.closed`, ...), `CancellationError`. Some bytes may have gone out before an error.
    /// Call from a tasklet.
    nonisolated(nonsending) public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) async throws {
        guard !isClosed else { throw NetError.closed("TLS write") }
        guard !isFlushing else {
            throw NetError(kind: .other, errno: 0, operation: "TLS write", context: "another tasklet is writing to this stream")
        }
        var taken = 0
        while try await perform(try pump.writeAction(bytes, taken: &taken), timeout: timeout, during: .write) == nil {}
    }

    /// Sends close_notify if it can go out without waiting (once), then closes the transport;
    /// a tasklet parked on the stream is resumed by the transport's close (a `StreamSocket`
    /// resumes it with `NetError` of kind `.closed`). Idempotent. Call on the loop's thread.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        // A write parked mid-record owns the transport's byte order: adding to it would corrupt
        // the record it is sending. Then the peer sees no close_notify, as after a reset.
        if !isFlushing, !pump.isBroken, pump.machine.queueCloseNotify() { sendWithoutWaiting() }
        transport.close()
    }

    /// Whether the idle connection can carry another request: open, nothing unread, and the
    /// peer has sent neither data, an alert nor end of stream. A TLS 1.3 session ticket that
    /// arrived meanwhile is consumed and does not count. Never waits. Loop thread.
    public var isReusable: Bool {
        guard !isClosed, !isReading, !isFlushing else { return false }
        return pump.isIdle { try transport.readWithoutWaiting(into: $0) }
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

    /// See `AsyncByteStream.readWithoutWaiting`: decrypted bytes already there, or decrypted
    /// from what the transport already has; nil when neither gives any.
    public func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard buffer.count > 0 else { return nil }
        guard !isClosed else { throw NetError.closed("TLS read") }
        guard !isReading else { return nil }  // the parked reader gets what comes
        while true {
            switch try pump.readAction(into: buffer) {
            case .done(let count): return count
            case .receive(let input):
                guard let count = try transport.readWithoutWaiting(into: input) else { return nil }
                try pump.received(count)
            case .send: return nil  // a read never sends
            }
        }
    }

    /// See `AsyncByteStream.writeWithoutWaiting`: encrypts all of `bytes` and sends what the
    /// transport takes now; the rest goes with the next write (or not at all after close).
    public func writeWithoutWaiting(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !isClosed, !pump.isBroken, !pump.machine.isClosing else { return 0 }
        var offset = 0
        while offset < bytes.count {
            guard let taken = try? pump.machine.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) else { break }
            offset += taken
        }
        if !isFlushing { sendWithoutWaiting() }
        return offset
    }

    // MARK: - Moving ciphertext

    /// Performs one of the pump's actions on the transport, parking in its calls.
    /// - Returns: the count of a `.done`; nil after a send or a receive.
    nonisolated(nonsending) private func perform(
        _ action: TLSPump.Action, timeout: Duration?, during operation: TLSDriverOperation
    ) async throws -> Int? {
        switch action {
        case .done(let count):
            return count
        case .send(let bytes):
            isFlushing = true
            defer { isFlushing = false }
            do { try await transport.write(bytes, timeout: timeout) } catch {
                throw pump.transportFailed(error, receiving: false, during: operation)
            }
            pump.sent(bytes.count)
        case .receive(let buffer):
            isReading = true
            defer { isReading = false }
            let count: Int
            do { count = try await transport.read(into: buffer, timeout: timeout) } catch {
                throw pump.transportFailed(error, receiving: true, during: operation)
            }
            try pump.received(count)
        }
        return nil
    }

    /// Sends what the transport takes now of the pump's ciphertext, never parking; the rest
    /// stays for the next write. Only while no tasklet is flushing.
    private func sendWithoutWaiting() {
        while case .send(let bytes) = pump.flushAction() {
            let sent = transport.writeWithoutWaiting(bytes)
            pump.sent(sent)
            if sent < bytes.count { return }
        }
    }
}
