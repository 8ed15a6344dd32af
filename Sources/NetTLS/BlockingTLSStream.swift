import NetCore

/// TLS for threads that may block (worker threads, the blocking engine) over any
/// `BlockingByteStream`: a `BlockingSocket`, a proxy tunnel, or another `BlockingTLSStream`.
/// A `TLSMachine` does the TLS; this driver only moves its ciphertext, blocking in the
/// transport's calls with the caller's timeout.
///
/// Errors: `TLSError` for TLS failures; the transport's for its own (`NetError` `.timedOut`,
/// `.connectionReset`, `.closed`, ...).
///
/// Memory: as `TLSStream` (a 64 KiB input and a 96 KiB output buffer).
///
/// Thread rule: one thread at a time; never on a loop's thread (it would stall the loop).
public final class BlockingTLSStream: BlockingByteStream, @unchecked Sendable {  // one thread at a time, see above
    /// The stream underneath, owned: `close()` closes it.
    package let transport: any BlockingByteStream
    package let machine: TLSMachine
    private let input: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutableRawBufferPointer
    /// A transport call failed mid-record: the stream is unusable, whatever the machine says.
    private var isBroken = false
    private var isClosed = false

    /// The descriptor of the socket at the bottom of the transport (-1 once closed), so another
    /// thread can shut it down to wake a blocked call.
    public var fileDescriptor: Int32 { transport.fileDescriptor }

    private init(transport: any BlockingByteStream, machine: TLSMachine) {
        self.transport = transport
        self.machine = machine
        input = .allocate(byteCount: TLSStream.inputCapacity, alignment: 16)
        output = .allocate(byteCount: TLSStream.outputCapacity, alignment: 16)
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    /// Starts TLS as the client over a connected transport and completes the handshake.
    /// - Parameters:
    ///   - transport: any blocking byte stream: a `BlockingSocket`, a CONNECT tunnel, another
    ///     `BlockingTLSStream`.
    ///   - serverName: the host name sent as SNI and checked against the certificate, or an
    ///     IPv4/IPv6 literal (checked against the certificate's IP addresses; no SNI).
    ///   - timeout: the longest the whole handshake may take; nil waits forever.
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
        do {
            let stream = BlockingTLSStream(transport: transport, machine: try TLSMachine(context: context, role: role))
            let deadline = TLSDeadline(timeout: timeout, operation: stream.machine.peerDescription)
            let operation = TLSDriverOperation.handshake(stream.machine.peerDescription)
            while true {
                let step = try stream.machine.handshake()
                // Every flight goes out before waiting for the answer, the last one too.
                try stream.flush(timeout: try deadline.remaining(), during: operation)
                switch step {
                case .done:
                    return stream
                case .needsCiphertext:
                    try stream.receive(timeout: try deadline.remaining(), during: operation)
                }
            }
        } catch {
            transport.close()
            throw error
        }
    }

    /// Reads decrypted bytes, up to `buffer.count`, blocking until at least one is there.
    /// - Parameter timeout: the longest to wait at a time for the transport; nil waits forever;
    ///   zero never waits (then `NetError` `.timedOut` when nothing is there).
    /// - Returns: the byte count; 0 at end of stream (close_notify or the transport's end;
    ///   after the latter `endedWithoutCloseNotify` is true).
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.timedOut`, `.closed`, ...).
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            guard !isClosed else { throw NetError.closed("TLS read") }
            switch try machine.read(into: buffer) {
            case .done(let count): return count
            // What a read produced (an answer to a key update) goes with the next write:
            // reading never depends on it, and a zero-timeout read must not write.
            case .needsCiphertext: try receive(timeout: timeout, during: .read)
            }
        }
    }

    /// Encrypts and writes every byte, in batches of up to 64 KiB of ciphertext per transport write.
    /// - Parameter timeout: the longest to wait at a time for the transport; nil waits forever.
    /// - Throws: `TLSError` (`.protocolError`), `NetError` (`.brokenPipe`, `.timedOut`, ...).
    public func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) throws {
        var offset = 0
        while offset < bytes.count {
            guard !isClosed else { throw NetError.closed("TLS write") }
            while offset < bytes.count, machine.pendingCiphertextCount < TLSStream.writeBatch {
                let end = min(bytes.count, offset + TLSStream.plaintextSlice)
                offset += try machine.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            }
            try flush(timeout: timeout, during: .write)
        }
    }

    /// Sends close_notify if it can go out without waiting (once), then closes the transport.
    /// Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if !isBroken, machine.queueCloseNotify() {
            // A zero timeout: what does not fit now is dropped, as is any error (closing anyway).
            try? flush(timeout: .zero, during: .write)
        }
        transport.close()
    }

    /// As `TLSStream.isReusable`: feeds what already arrived (reading with a zero timeout),
    /// then asks the machine. Never blocks.
    public var isReusable: Bool {
        guard !isClosed, !isBroken else { return false }
        do {
            for _ in 0..<2 {
                let n = try transport.read(into: input, timeout: .zero)
                if n == 0 {
                    machine.receivedEndOfStream()
                    break
                }
                try machine.receivedCiphertext(UnsafeRawBufferPointer(rebasing: input[0..<n]))
                if n == input.count { return false }
            }
        } catch let error as NetError where error.kind == .timedOut {
            // Nothing (more) there: the usual case for an idle connection.
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

    // MARK: - Moving ciphertext

    private func receive(timeout: Duration?, during operation: TLSDriverOperation) throws {
        let n: Int
        do {
            n = try transport.read(into: input, timeout: timeout)
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

    /// Sends every byte of ciphertext the machine has.
    private func flush(timeout: Duration?, during operation: TLSDriverOperation) throws {
        while true {
            let count = machine.takeCiphertext(into: output)
            if count == 0 { return }
            do {
                try transport.write(UnsafeRawBufferPointer(rebasing: output[0..<count]), timeout: timeout)
            } catch {
                // How much of the batch went out is unknown: the byte stream is broken.
                isBroken = true
                throw operation.rename(error)
            }
        }
    }
}
