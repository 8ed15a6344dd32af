import CZstd

/// zstd (RFC 8878) through libzstd's streaming decoder, its window capped at 8 MiB (RFC 8878
/// §3.1.1.1.2: what an HTTP decoder must support, and what bounds its memory).
final class ZstdStream: DecodingStream {
    private let context: OpaquePointer
    /// Frames decoded to their end: a failure after one is trailing garbage, not corruption.
    private var completedFrames = 0

    init() throws(ContentDecodingError) {
        guard let context = ZSTD_createDCtx() else { throw .corrupt(.zstd, detail: "libzstd could not start (out of memory)") }
        self.context = context
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, 23)
    }

    deinit { ZSTD_freeDCtx(context) }

    func step(
        _ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer
    ) throws(ContentDecodingError) -> (consumed: Int, produced: Int, ended: Bool) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
        if ZSTD_isError(result) != 0 {
            if completedFrames > 0 && outBuffer.pos == 0 { throw .trailingGarbage(.zstd) }
            throw .corrupt(.zstd, detail: String(cString: ZSTD_getErrorName(result)))
        }
        if result == 0 { completedFrames += 1 }
        return (inBuffer.pos, outBuffer.pos, result == 0)
    }

    func mayContinue(after byte: UInt8) -> Bool { true }  // another frame, or garbage the next step reports
}
