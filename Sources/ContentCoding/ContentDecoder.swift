/// Decodes one content-coded body, bytes in and bytes out, with no I/O (sans-I/O): a driver
/// feeds it the encoded bytes as they arrive and gives it room for the decoded ones. Bounded
/// memory: the library's own window (32 KiB for zlib, at most 16 MiB for br, 8 MiB for zstd,
/// RFC 8878 §3.1.1.1.2's limit for HTTP) plus nothing that grows with the body.
///
/// Thread rule: one thread at a time (it holds the C library's stream state).
public final class ContentDecoder {
    /// The coding this decoder undoes.
    public let coding: ContentCoding
    /// The output limits it enforces; going past one is a `ContentDecodingError`.
    public let limits: DecompressionLimits
    /// Encoded bytes consumed so far.
    public private(set) var encodedBytes: UInt64 = 0
    /// Decoded bytes produced so far.
    public private(set) var decodedBytes: UInt64 = 0
    /// True at the end of the encoded stream (for gzip and zstd, of its last member or frame
    /// so far: another may follow).
    public private(set) var isAtEnd = false
    private let stream: any DecodingStream

    /// - Throws: `ContentDecodingError.corrupt` when the library cannot make its state (no memory).
    public init(_ coding: ContentCoding, limits: DecompressionLimits = DecompressionLimits()) throws(ContentDecodingError) {
        self.coding = coding
        self.limits = limits
        switch coding {
        case .gzip: stream = try ZlibStream(format: .gzip)
        case .deflate: stream = try ZlibStream(format: .deflate)
        case .br: stream = try BrotliStream()
        case .zstd: stream = try ZstdStream()
        }
    }

    /// Decodes what it can of `input` into `output`.
    /// - Returns: the input bytes consumed and the output bytes produced. Nothing produced with
    ///   all input consumed means: feed more. Input left over means: give more room (or, at
    ///   the end of the stream, the bytes after it, which the next call reports).
    /// - Throws: `ContentDecodingError` (corrupt, trailing garbage, a limit passed); the
    ///   decoder is then done.
    public func decode(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(ContentDecodingError) -> (consumed: Int, produced: Int) {
        if isAtEnd {
            guard let first = input.first else { return (0, 0) }
            // gzip members may follow each other (RFC 1952 §2.2); zstd frames too (RFC 8878 §3).
            guard stream.mayContinue(after: first) else { throw .trailingGarbage(coding) }
            isAtEnd = false
        }
        let step = try stream.step(input, output)
        encodedBytes += UInt64(step.consumed)
        decodedBytes += UInt64(step.produced)
        isAtEnd = step.ended
        if let limit = limits.maxDecodedBytes, decodedBytes > limit { throw .tooLarge(limit: limit) }
        if let ratio = limits.maxRatio, decodedBytes > limits.ratioGrace, decodedBytes / max(1, encodedBytes) > ratio {
            throw .ratioExceeded(limit: ratio)
        }
        return (step.consumed, step.produced)
    }

    /// Called when the encoded bytes end. - Throws: `.truncated` unless the stream ended or
    /// there were no bytes at all (an empty body with a Content-Encoding, which servers send).
    public func finish() throws(ContentDecodingError) {
        guard isAtEnd || encodedBytes == 0 else { throw .truncated(coding) }
    }
}

/// One library's streaming decoder.
protocol DecodingStream: AnyObject {
    /// One call into the library. - Returns: bytes consumed and produced, and whether the
    /// stream (member, frame) ended.
    func step(
        _ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer
    ) throws(ContentDecodingError) -> (consumed: Int, produced: Int, ended: Bool)
    /// Whether a byte after the end may start another member or frame (resetting the state
    /// for it); false: it is trailing garbage.
    func mayContinue(after byte: UInt8) -> Bool
}
