import NetCore

/// How writing a generated body ended.
enum BodyOutcome {
    /// Every byte (and the chunked terminator) was written; the connection may carry on.
    case complete
    /// A fault ended the connection (reset or close); the caller must not touch it again.
    case connectionEnded
}

/// The body faults: the ones that act at a body offset or pace the whole body.
enum BodyFault {
    case reset(at: UInt64)
    case close(at: UInt64)
    case stall(at: UInt64, duration: Duration)
    case drip(bytesPerSecond: UInt64)

    init?(_ fault: Fault) {
        switch fault {
        case .reset(let at): self = .reset(at: at)
        case .close(let at): self = .close(at: at)
        case .stall(let at, let duration): self = .stall(at: at, duration: duration)
        case .drip(let rate): self = .drip(bytesPerSecond: rate)
        case .malformed, .status: return nil
        }
    }

    /// The body offset at which a one-time fault acts, nil for drip.
    var offset: UInt64? {
        switch self {
        case .reset(let at), .close(let at), .stall(let at, _): return at
        case .drip: return nil
        }
    }
}

/// Writes the body of a `GeneratedResponse`, framed as it says, with an optional fault.
///
/// Bytes are generated straight into the connection's 256 KiB output buffer and written in big
/// pieces; chunk framing goes into the same buffer, so chunked bodies cost no extra writes.
/// Runs on the connection's tasklet.
struct BodyWriter {
    let io: ConnectionIO
    let response: GeneratedResponse
    var fault: BodyFault?

    /// Payload bytes put into the output buffer so far.
    private var produced: UInt64 = 0
    private var used = 0

    /// - Parameter head: the response head, sent in the same write as the first body bytes.
    init(io: ConnectionIO, response: GeneratedResponse, fault: BodyFault?, head: [UInt8]) async throws {
        self.io = io
        self.response = response
        self.fault = fault
        if head.count <= io.output.count / 2 {
            head.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: io.output[0..<$0.count]).copyMemory(from: $0) }
            used = head.count
        } else {
            try await io.write(head)  // only with absurdly long etag=/mtime=/name= values
        }
    }

    /// Writes the whole body. - Throws: `NetError`, `TLSError`, `CancellationError` from the stream.
    mutating func run() async throws -> BodyOutcome {
        let length = response.length
        let dripStart = ContinuousClock.now
        while true {
            if let fault, let at = fault.offset, produced >= min(at, length) {
                try await flush()
                self.fault = nil
                switch fault {
                case .reset:
                    io.reset()
                    return .connectionEnded
                case .close:
                    await io.closeGracefully()
                    return .connectionEnded
                case .stall(_, let duration):
                    try await sleep(for: duration)
                case .drip:
                    break
                }
            }
            guard produced < length else { break }
            var stop = length
            if let at = fault?.offset { stop = min(stop, max(at, produced)) }
            if case .drip(let rate) = fault {
                // Pieces of about 1/20 s worth of bytes, so the rate is smooth at any scale.
                let piece = min(max(rate / 20, 1), 16384)
                stop = min(stop, produced + piece)
            }
            try await produce(upTo: stop)
            if case .drip(let rate) = fault {
                try await flush()
                let due = dripStart + .seconds(Double(produced) / Double(rate))
                try await sleep(until: due)
            }
        }
        if response.chunked {
            var end = "0\r\n"
            if response.trailer { end += "X-Generated-Length: \(length)\r\n" }
            end += "\r\n"
            try await append(Array(end.utf8))
        }
        try await flush()
        return .complete
    }

    /// Generates payload up to body offset `stop` into the output buffer (with chunk framing),
    /// flushing whenever the buffer fills.
    private mutating func produce(upTo stop: UInt64) async throws {
        let chunk = UInt64(response.chunkSize)
        let length = response.length
        let output = io.output
        while produced < stop {
            // 64 bytes hold a chunk header (at most 16 hex digits + CRLF), a byte, and the CRLF.
            if output.count - used < 64 { try await flush() }
            if response.chunked && produced % chunk == 0 {
                appendInline(String(min(chunk, length - produced), radix: 16) + "\r\n")
            }
            let chunkEnd = response.chunked ? min((produced / chunk + 1) * chunk, length) : length
            let room = output.count - used - (response.chunked ? 2 : 0)
            let count = Int(min(UInt64(room), min(stop, chunkEnd) - produced))
            GeneratedContent.fill(
                UnsafeMutableRawBufferPointer(rebasing: output[used..<(used + count)]),
                seed: response.seed, offset: response.first + produced)
            used += count
            produced += UInt64(count)
            if response.chunked && produced == chunkEnd { appendInline("\r\n") }
        }
    }

    /// Appends a few bytes the caller has made room for.
    private mutating func appendInline(_ text: String) {
        for byte in text.utf8 {
            io.output[used] = byte
            used += 1
        }
    }

    private mutating func append(_ bytes: [UInt8]) async throws {
        if used + bytes.count > io.output.count { try await flush() }
        bytes.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: io.output[used..<(used + source.count)]).copyMemory(from: source)
        }
        used += bytes.count
    }

    private mutating func flush() async throws {
        guard used > 0 else { return }
        let count = used
        used = 0
        try await io.writeOutput(count: count)  // the socket yields now and then (NetCore's YieldMeter)
    }
}
