import NetCore

/// TLS for tasklets (the loop engine) over any `AsyncByteStream`: a `StreamSocket`, a proxy
/// tunnel, or another `TLSStream` (TLS inside TLS). A `TLSMachine` does the TLS; this driver
/// only moves its ciphertext to and from the transport, parking in the transport's calls
/// instead of blocking the loop.
///
/// Errors: `TLSError` for TLS failures; the transport's for its own (`NetError` `.timedOut`,
/// `.connectionReset`, `.closed`, ...); `CancellationError`.
///
/// Memory: a 64 KiB ciphertext input buffer and a 96 KiB output buffer per stream, made with
/// the stream; OpenSSL's memory BIOs hold at most one read's worth in and one batch out.
///
/// Thread rule: as the transport (a `StreamSocket` is confined to one loop's thread). One
/// tasklet may read while another writes; not two readers, nor two writers.
public final class TLSStream: AsyncByteStream, @unchecked Sendable {  // confined to one loop's thread, see above
    /// Ciphertext is read this much at a time: fewer, larger system calls pay for the copy
    /// into the memory BIO.
    static let inputCapacity = 64 << 10
    /// A write encrypts until this much ciphertext waits, then sends it in one call.
    static let writeBatch = 64 << 10
    /// Holds one batch plus the record that crossed the batch line (16 KiB and 22 bytes of
    /// TLS 1.3 overhead) in one take; more simply waits in the BIO for the next take.
    static let outputCapacity = 96 << 10
    /// Plaintext handed to the machine per write step: OpenSSL makes records of 16 KiB anyway.
    static let plaintextSlice = 16 << 10

    /// Fairness, as for `StreamSocket`: plaintext served from ciphertext already read makes the
    /// tasklet yield now and then. (Writes always go through the transport, which yields itself.)
    private var readMeter = YieldMeter()
    /// The stream underneath, owned: `close()` closes it.
    package let transport: any AsyncByteStream
    package let machine: TLSMachine
    private let input: UnsafeMutableRawBufferPointer
    /// Ciphertext taken from the machine, `output[outputStart..<outputEnd]` not yet sent.
    private let output: UnsafeMutableRawBufferPointer
    private var outputStart = 0
    private var outputEnd = 0
    /// A tasklet is in `transport.write`: nobody else may send, or records would interleave.
    private var isFlushing = false
    /// A tasklet is in `transport.read`: a reuse probe must not take bytes it waits for.
    private var isReading = false
    /// A transport call failed mid-record: the stream is unusable, whatever the machine says.
    private var isBroken = false
    private var isClosed = false

    private init(transport: any AsyncByteStream, machine: TLSMachine) {
        self.transport = transport
        self.machine = machine
        input = .allocate(byteCount: Self.inputCapacity, alignment: 16)
        output = .allocate(byteCount: Self.outputCapacity, alignment: 16)
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    /// Starts TLS as the client over a connected transport and completes the handshake,
    /// parking as needed.
    /// - Parameters:
    ///   - transport: any byte stream: a `StreamSocket`, a CONNECT tunnel, another `TLSStream`.
    ///   - serverName: the host name sent as SNI and checked against the certificate, or an
    ///     IPv4/IPv6 literal (checked against the certificate's IP addresses; no SNI).
    ///   - timeout: the longest the whole handshake may take; nil waits forever.
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
        do {
            let stream = TLSStream(transport: transport, machine: try TLSMachine(context: context, role: role))
            let deadline = TLSDeadline(timeout: timeout, operation: stream.machine.peerDescription)
            let operation = TLSDriverOperation.handshake(stream.machine.peerDescription)
            while true {
                let step = try stream.machine.handshake()
                // Every flight goes out before waiting for the answer, the last one too.
                try await stream.flush(timeout: try deadline.remaining(), during: operation)
                switch step {
                case .done:
                    return stream
                case .needsCiphertext:
                    try await stream.receive(timeout: try deadline.remaining(), during: operation)
                }
            }
        } catch {
            transport.close()
            throw error
        }
    }

    /// Reads decrypted bytes, up to `buffer.count`, parking until at least one is there.
    /// - Parameter timeout: the longest to wait at a time for the transport; nil waits forever.
    /// - Returns: the byte count; 0 at end of stream (close_notify or the transport's end;
    ///   after the latter `endedWithoutCloseNotify` is true).
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.timedOut`, `.closed`, ...),
    ///   `CancellationError`. Call from a tasklet.
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) async throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            guard !isClosed else { throw NetError.closed("TLS read") }
            switch try machine.read(into: buffer) {
            case .done(let count):
                if readMeter.movedWithoutWaiting(count) { await Tasklet.yield() }
                return count
            case .needsCiphertext:
                // What a read produced (an answer to a key update) goes now if it fits, else
                // with the next write; reading never depends on it.
                if !isFlushing { sendWithoutWaiting() }
                readMeter.didWait()
                try await receive(timeout: timeout, during: .read)
            }
        }
    }

    /// Encrypts and writes every byte, parking while the peer is not reading.
    /// - Parameter timeout: the longest to wait at a time for the transport; nil waits forever.
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.brokenPipe`, `.timedOut`,
    ///   `.closed`, ...), `CancellationError`. Some bytes may have gone out before an error.
    /// Call from a tasklet.
    nonisolated(nonsending) public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) async throws {
        var offset = 0
        while offset < bytes.count {
            guard !isClosed else { throw NetError.closed("TLS write") }
            guard !isFlushing else {
                throw NetError(kind: .other, errno: 0, operation: "TLS write", context: "another tasklet is writing to this stream")
            }
            // Encrypt a batch of records, then send them with one transport write.
            while offset < bytes.count, machine.pendingCiphertextCount < Self.writeBatch {
                let end = min(bytes.count, offset + Self.plaintextSlice)
                offset += try machine.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            }
            try await flush(timeout: timeout, during: .write)
        }
    }

    /// Sends close_notify if it can go out without waiting (once), then closes the transport;
    /// a tasklet parked on the stream is resumed by the transport's close (a `StreamSocket`
    /// resumes it with `NetError` of kind `.closed`). Idempotent. Call on the loop's thread.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        // A write parked mid-batch owns the transport's byte order: adding to it would corrupt
        // the record it is sending. Then the peer sees no close_notify, as after a reset.
        if !isFlushing, !isBroken, machine.queueCloseNotify() { sendWithoutWaiting() }
        transport.close()
    }

    /// Whether the idle connection can carry another request: open, nothing unread, and the
    /// peer has sent neither data, an alert nor end of stream. A TLS 1.3 session ticket that
    /// arrived meanwhile is consumed and does not count. Never waits. Loop thread.
    public var isReusable: Bool {
        guard !isClosed, !isBroken, !isReading, !isFlushing, outputStart == outputEnd else { return false }
        do {
            // Feed what already arrived. Tickets are a few hundred bytes: a full buffer is data
            // nobody asked for, and no reason to read on.
            for _ in 0..<2 {
                guard let n = try transport.readWithoutWaiting(into: input) else { break }
                if n == 0 {
                    machine.receivedEndOfStream()
                    break
                }
                try machine.receivedCiphertext(UnsafeRawBufferPointer(rebasing: input[0..<n]))
                if n == input.count { return false }
            }
        } catch {
            return false
        }
        return machine.isIdle()
    }

    /// True once a read returned end of stream because the transport ended without the
    /// peer's close_notify: what was read is authentic but may be cut short.
    public var endedWithoutCloseNotify: Bool { machine.endedWithoutCloseNotify }

    /// The negotiated protocol version, such as "TLSv1.3".
    public var protocolVersion: String { machine.protocolVersion }

    /// See `AsyncByteStream.readWithoutWaiting`: decrypted bytes already there, or decrypted
    /// from what the transport already has; nil when neither gives any.
    public func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard buffer.count > 0 else { return nil }
        guard !isClosed else { throw NetError.closed("TLS read") }
        guard !isReading else { return nil }  // the parked reader gets what comes
        while true {
            switch try machine.read(into: buffer) {
            case .done(let count): return count
            case .needsCiphertext:
                guard let n = try transport.readWithoutWaiting(into: input) else { return nil }
                if n == 0 {
                    machine.receivedEndOfStream()
                } else {
                    try machine.receivedCiphertext(UnsafeRawBufferPointer(rebasing: input[0..<n]))
                }
            }
        }
    }

    /// See `AsyncByteStream.writeWithoutWaiting`: encrypts all of `bytes` and sends what the
    /// transport takes now; the rest goes with the next write (or not at all after close).
    public func writeWithoutWaiting(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !isClosed, !isBroken, !machine.isClosing else { return 0 }
        var offset = 0
        while offset < bytes.count {
            guard let taken = try? machine.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) else { break }
            offset += taken
        }
        if !isFlushing { sendWithoutWaiting() }
        return offset
    }

    // MARK: - Moving ciphertext

    /// Reads one buffer of ciphertext from the transport into the machine, or its end.
    nonisolated(nonsending) private func receive(timeout: Duration?, during operation: TLSDriverOperation) async throws {
        isReading = true
        defer { isReading = false }
        let n: Int
        do {
            n = try await transport.read(into: input, timeout: timeout)
        } catch let error as NetError where error.kind == .timedOut {
            throw operation.rename(error)  // a timeout loses no byte: the stream stays usable
        } catch {
            isBroken = true
            throw operation.rename(error)
        }
        if n == 0 {
            machine.receivedEndOfStream()
        } else {
            try machine.receivedCiphertext(UnsafeRawBufferPointer(rebasing: input[0..<n]))
        }
    }

    /// Sends every byte of ciphertext the machine has, parking in the transport's write.
    nonisolated(nonsending) private func flush(timeout: Duration?, during operation: TLSDriverOperation) async throws {
        guard !isFlushing else { return }
        isFlushing = true
        defer { isFlushing = false }
        while true {
            if outputStart == outputEnd {
                outputStart = 0
                outputEnd = machine.takeCiphertext(into: output)
                if outputEnd == 0 { return }
            }
            do {
                try await transport.write(UnsafeRawBufferPointer(rebasing: output[outputStart..<outputEnd]), timeout: timeout)
            } catch {
                // How much of the batch went out is unknown: the byte stream is broken.
                isBroken = true
                outputStart = outputEnd
                throw operation.rename(error)
            }
            outputStart = outputEnd
        }
    }

    /// Sends what the transport takes now of the machine's ciphertext, never parking; the
    /// rest stays for the next `flush`. Only while no tasklet is flushing.
    private func sendWithoutWaiting() {
        while true {
            if outputStart == outputEnd {
                outputStart = 0
                outputEnd = machine.takeCiphertext(into: output)
                if outputEnd == 0 { return }
            }
            let sent = transport.writeWithoutWaiting(UnsafeRawBufferPointer(rebasing: output[outputStart..<outputEnd]))
            outputStart += sent
            if outputStart < outputEnd { return }
        }
    }
}
