import CZlib

/// gzip (RFC 1952) and deflate (RFC 1950, or a raw RFC 1951 stream) through zlib's `inflate`.
final class ZlibStream: DecodingStream {
    enum Format { case gzip, deflate }

    private let format: Format
    private let stream: UnsafeMutablePointer<z_stream>
    private var initialized = false

    init(format: Format) throws(ContentDecodingError) {
        self.format = format
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // gzip is known from the start; deflate waits for its first byte (zlib header or raw).
        if format == .gzip { try start(windowBits: 16 + MAX_WBITS) }
    }

    deinit {
        if initialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    private var coding: ContentCoding { format == .gzip ? .gzip : .deflate }

    private func start(windowBits: Int32) throws(ContentDecodingError) {
        // inflateInit2 is a macro around inflateInit2_.
        guard inflateInit2_(stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt(coding, detail: "zlib could not start (out of memory)")
        }
        initialized = true
    }

    func step(
        _ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer
    ) throws(ContentDecodingError) -> (consumed: Int, produced: Int, ended: Bool) {
        if !initialized {
            guard let first = input.first else { return (0, 0, false) }
            // A zlib header's first byte has compression method 8 and a window of at most 32 KiB.
            let isZlib = first & 0x0F == 8 && first >> 4 <= 7
            try start(windowBits: isZlib ? MAX_WBITS : -MAX_WBITS)
        }
        let inputCount = UInt32(min(input.count, Int(UInt32.max)))
        let outputCount = UInt32(min(output.count, Int(UInt32.max)))
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = inputCount
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = outputCount
        let result = inflate(stream, Z_NO_FLUSH)
        let consumed = Int(inputCount - stream.pointee.avail_in)
        let produced = Int(outputCount - stream.pointee.avail_out)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch result {
        case Z_OK, Z_BUF_ERROR: return (consumed, produced, false)  // Z_BUF_ERROR: no progress possible, not an error
        case Z_STREAM_END: return (consumed, produced, true)
        default:
            let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(result)"
            throw .corrupt(coding, detail: detail)
        }
    }

    func mayContinue(after byte: UInt8) -> Bool {
        guard format == .gzip, byte == 0x1F else { return false }
        return inflateReset(stream) == Z_OK  // a new member: its header is checked by inflate
    }
}
