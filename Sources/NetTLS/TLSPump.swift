import NetCore

/// What both TLS drivers share, with no I/O of its own: a `TLSMachine`, the ciphertext
/// buffers, and the steps of a handshake, a read and a write as actions. A driver only
/// performs the actions on its transport (`.send`: write all these bytes, then `sent`;
/// `.receive`: read into this buffer, then `received`) until one says `.done`.
///
/// Memory: one record of ciphertext each way (17 KiB in, 17 KiB out), made with the pump.
/// A bulk transfer gets larger buffers for fewer, larger system calls: the input grows to
/// 64 KiB after a receive that filled it and goes back to a record's worth once one does not
/// (the stream caught up with its peer, as at the end of a response); a write of more than a
/// record uses a four-record output until it is done. The machine's memory BIOs hold about a
/// record each way, as the pump feeds and takes one at a time. OpenSSL's own record buffers
/// go back while empty (`SSL_MODE_RELEASE_BUFFERS`, see `TLSContext`).
///
/// Thread rule: the owning stream's; not `Sendable`.
final class TLSPump {
    /// One driver step.
    enum Action {
        /// Write every one of these ciphertext bytes to the transport, then call `sent`.
        case send(UnsafeRawBufferPointer)
        /// Read ciphertext (at least a byte, or the end) into this buffer, then call `received`.
        case receive(UnsafeMutableRawBufferPointer)
        /// Finished: a read's byte count (0 at the end of stream), a write's plaintext count.
        case done(Int)
    }

    /// A TLS record's ciphertext: 16 KiB of plaintext and up to 256 bytes of TLS 1.3 overhead
    /// (TLS 1.2 allows 2 KiB), with room to spare: a read of this size takes a whole record.
    static let recordCapacity = 17 << 10
    /// The output of a bulk write: four records in one transport write.
    static let busyOutputCapacity = 4 * recordCapacity
    /// The input of a stream that filled its record-sized input: a bulk transfer.
    static let busyInputCapacity = 64 << 10
    /// Plaintext handed to the machine per write step: OpenSSL makes records of 16 KiB anyway.
    static let plaintextSlice = 16 << 10

    let machine: TLSMachine
    private var input: UnsafeMutableRawBufferPointer
    /// `input[inputFed..<inputFilled]` arrived and is not yet fed to the machine: it takes a
    /// record's worth at a time, so its memory BIO never holds more.
    private var inputFed = 0
    private var inputFilled = 0
    /// The input's size for the next receive: busy after one that filled the input, a record's
    /// worth after one that did not (the stream caught up with its peer).
    private var wantedInputCapacity = recordCapacity
    /// Ciphertext taken from the machine, `output[outputStart..<outputEnd]` not yet sent.
    private var output: UnsafeMutableRawBufferPointer
    private var outputStart = 0
    private var outputEnd = 0
    /// The handshake asked for ciphertext and none came since.
    private var handshakeNeedsCiphertext = false
    /// When the whole handshake must be done by, and its timeout; nil for no limit.
    private let handshakeDeadline: (end: ContinuousClock.Instant, timeout: Duration)?
    /// A transport call failed mid-record: the stream is unusable, whatever the machine says.
    private(set) var isBroken = false

    /// A pump for a new session in `role`, whose handshake may take `handshakeTimeout` in all
    /// (nil: no limit), so a peer that trickles bytes cannot stretch it. - Throws: as `TLSMachine.init`.
    init(context: TLSContext, role: TLSMachine.Role, handshakeTimeout: Duration? = nil) throws {
        machine = try TLSMachine(context: context, role: role)
        handshakeDeadline = handshakeTimeout.map { (ContinuousClock.now + $0, $0) }
        input = .allocate(byteCount: Self.recordCapacity, alignment: 16)
        output = .allocate(byteCount: Self.recordCapacity, alignment: 16)
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    /// The buffers' sizes now: a record's worth each, or more in a bulk transfer.
    var capacities: (input: Int, output: Int) { (input.count, output.count) }

    /// True while ciphertext taken from the machine waits to be sent.
    var hasUnsentCiphertext: Bool { outputStart < outputEnd }

    // MARK: - Steps

    /// The handshake's next action: every flight goes out before waiting for the answer, the
    /// last one too. - Throws: as `TLSMachine.handshake`.
    func handshakeAction() throws -> Action {
        while true {
            if let bytes = nextCiphertext() { return .send(bytes) }
            if machine.isHandshakeComplete { return .done(0) }
            if handshakeNeedsCiphertext {
                guard try feedMore() else { return receiveAction() }
                handshakeNeedsCiphertext = false
            }
            if try machine.handshake() == .needsCiphertext { handshakeNeedsCiphertext = true }
        }
    }

    /// The handshake, as transport errors name it.
    var handshake: TLSDriverOperation { .handshake(machine.peerDescription) }

    /// The time left for the handshake's next wait; nil for no limit.
    /// - Throws: `NetError` of kind `.timedOut`, named for the handshake, once it has passed.
    func handshakeTimeLeft() throws -> Duration? {
        guard let deadline = handshakeDeadline else { return nil }
        let left = deadline.end - ContinuousClock.now
        guard left > .zero else { throw NetError.timedOut(machine.peerDescription, after: deadline.timeout) }
        return left
    }

    /// A read's next action: `.done` or `.receive`, never `.send` (what a read produced, an
    /// answer to a key update, goes with the next write: reading never depends on it).
    /// - Throws: as `TLSMachine.read`.
    func readAction(into buffer: UnsafeMutableRawBufferPointer) throws -> Action {
        while true {
            switch try machine.read(into: buffer) {
            case .done(let count):
                // A stream that caught up with its peer waits with a record's worth, no more.
                if inputFed == inputFilled, input.count > wantedInputCapacity { Self.resize(&input, to: wantedInputCapacity) }
                return .done(count)
            case .needsCiphertext: if try !feedMore() { return receiveAction() }
            }
        }
    }

    /// A write's next action, `taken` counting the plaintext encrypted so far: `.send` the
    /// records that fit the output (several in one send once a write is bulk), `.done(taken)`
    /// once all of `bytes` went out. Records are taken from the machine one by one, so its
    /// memory BIO never holds more than one. - Throws: as `TLSMachine.write`.
    func writeAction(_ bytes: UnsafeRawBufferPointer, taken: inout Int) throws -> Action {
        while true {
            if outputStart == outputEnd {
                if bytes.count - taken > Self.plaintextSlice, output.count < Self.busyOutputCapacity {
                    Self.resize(&output, to: Self.busyOutputCapacity)
                }
                outputStart = 0
                outputEnd = machine.takeCiphertext(into: output)
                while taken < bytes.count, output.count - outputEnd >= Self.recordCapacity {
                    let end = min(bytes.count, taken + Self.plaintextSlice)
                    taken += try machine.write(UnsafeRawBufferPointer(rebasing: bytes[taken..<end]))
                    outputEnd += machine.takeCiphertext(into: UnsafeMutableRawBufferPointer(rebasing: output[outputEnd...]))
                }
            }
            if let ciphertext = nextCiphertext() { return .send(ciphertext) }
            guard taken < bytes.count else {
                if output.count > Self.recordCapacity { Self.resize(&output, to: Self.recordCapacity) }
                return .done(taken)
            }
        }
    }

    /// Sends what is waiting, then `.done(0)`.
    func flushAction() -> Action { nextCiphertext().map { .send($0) } ?? .done(0) }

    // MARK: - Results

    /// `count` bytes of the last `.send` went out.
    func sent(_ count: Int) { outputStart = min(outputEnd, outputStart + count) }

    /// `count` bytes of ciphertext arrived in the last `.receive`'s buffer; 0 for the end.
    /// - Throws: as `TLSMachine.receivedCiphertext`.
    func received(_ count: Int) throws {
        handshakeNeedsCiphertext = false
        guard count > 0 else { return machine.receivedEndOfStream() }
        (inputFed, inputFilled) = (0, count)
        wantedInputCapacity = count == input.count ? Self.busyInputCapacity : Self.recordCapacity
        _ = try feedMore()
    }

    /// The error a driver throws for its transport's `error` during `operation`: renamed (see
    /// `TLSDriverOperation`). Any failure but a receive's timeout leaves the stream broken:
    /// how much of a record moved is unknown. A timed-out receive lost no byte.
    func transportFailed(_ error: any Error, receiving: Bool, during operation: TLSDriverOperation) -> any Error {
        if !receiving || (error as? NetError)?.kind != .timedOut { isBroken = true }
        if !receiving { outputStart = outputEnd }  // a parked writer's bytes stay theirs
        return operation.rename(error)
    }

    /// Whether the idle session can carry another request, after feeding it what already
    /// arrived (`readNow` returns the byte count, 0 at the end, nil when nothing is there;
    /// it throws for a broken transport). Tickets are a few hundred bytes: a full buffer is
    /// data nobody asked for, and no reason to read on.
    func isIdle(readingNow readNow: (UnsafeMutableRawBufferPointer) throws -> Int?) -> Bool {
        guard !isBroken, !hasUnsentCiphertext, inputFed == inputFilled else { return false }
        do {
            for _ in 0..<2 {
                guard let count = try readNow(input) else { break }
                try received(count)
                while try feedMore() {}
                if count == 0 { break }
                if count == input.count { return false }
            }
        } catch {
            return false
        }
        return machine.isIdle()
    }

    // MARK: - Buffers

    /// The ciphertext to send next, taken from the machine when nothing is waiting; nil when
    /// there is none.
    private func nextCiphertext() -> UnsafeRawBufferPointer? {
        if outputStart == outputEnd {
            outputStart = 0
            outputEnd = machine.takeCiphertext(into: output)
        }
        return outputStart < outputEnd ? UnsafeRawBufferPointer(rebasing: output[outputStart..<outputEnd]) : nil
    }

    /// Feeds the machine the next record's worth of what the last receive brought.
    /// - Returns: false when all of it was fed already.
    private func feedMore() throws -> Bool {
        guard inputFed < inputFilled else { return false }
        let end = min(inputFilled, inputFed + Self.recordCapacity)
        try machine.receivedCiphertext(UnsafeRawBufferPointer(rebasing: input[inputFed..<end]))
        inputFed = end
        return true
    }

    /// Receive into the input, made the busy size after a full receive.
    private func receiveAction() -> Action {
        if input.count != wantedInputCapacity { Self.resize(&input, to: wantedInputCapacity) }
        return .receive(input)
    }

    /// Only when `buffer` holds nothing: all input fed (the machine copied it), all output sent.
    private static func resize(_ buffer: inout UnsafeMutableRawBufferPointer, to capacity: Int) {
        buffer.deallocate()
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }
}
