import CBrotli

/// br (RFC 7932) through libbrotli's streaming decoder.
final class BrotliStream: DecodingStream {
    private let state: OpaquePointer

    init() throws(ContentDecodingError) {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else {
            throw .corrupt(.br, detail: "libbrotli could not start (out of memory)")
        }
        self.state = state
    }

    deinit { BrotliDecoderDestroyInstance(state) }

    func step(
        _ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer
    ) throws(ContentDecodingError) -> (consumed: Int, produced: Int, ended: Bool) {
        var empty: UInt8 = 0
        return try withUnsafeMutablePointer(to: &empty) { placeholder throws(ContentDecodingError) in
            // libbrotli wants real pointers even for empty buffers.
            var nextIn: UnsafePointer<UInt8>? = input.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(placeholder)
            var availableIn = input.count
            var nextOut: UnsafeMutablePointer<UInt8>? = output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? placeholder
            var availableOut = output.count
            let result = BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
            let consumed = input.count - availableIn
            let produced = output.count - availableOut
            switch result {
            case BROTLI_DECODER_RESULT_SUCCESS: return (consumed, produced, true)
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT, BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: return (consumed, produced, false)
            default:
                throw .corrupt(.br, detail: String(cString: BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state))))
            }
        }
    }

    func mayContinue(after byte: UInt8) -> Bool { false }  // one br stream per body
}
