import CBrotli
import CZlib
import CZstd

/// Encodes a whole body in one go for `/encoded/`: gzip, deflate (zlib), raw deflate, br or
/// zstd, each by its Debian library. Test-server code: the bodies are at most 64 MiB.
enum ContentEncoder {
    /// - Returns: the encoded bytes, or nil for an unknown coding name.
    static func encode(_ bytes: [UInt8], as coding: String) -> [UInt8]? {
        switch coding {
        case "gzip": return deflate(bytes, windowBits: 16 + MAX_WBITS)
        case "deflate": return deflate(bytes, windowBits: MAX_WBITS)
        case "rawdeflate": return deflate(bytes, windowBits: -MAX_WBITS)
        case "br": return brotli(bytes)
        case "zstd": return zstd(bytes)
        default: return nil
        }
    }

    private static func deflate(_ bytes: [UInt8], windowBits: Int32) -> [UInt8]? {
        var stream = z_stream()
        // deflateInit2 is a macro around deflateInit2_.
        guard
            deflateInit2_(&stream, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 64)
        let written: Int? = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = uInt(out.count)
                guard CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END else { return nil }
                return out.count - Int(stream.avail_out)
            }
        }
        guard let written else { return nil }
        return Array(output[0..<written])
    }

    private static func brotli(_ bytes: [UInt8]) -> [UInt8]? {
        var size = BrotliEncoderMaxCompressedSize(bytes.count)
        var output = [UInt8](repeating: 0, count: max(size, 64))
        size = output.count
        let ok = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, input.count, input.baseAddress, &size, out.baseAddress)
            }
        }
        guard ok == BROTLI_TRUE else { return nil }
        return Array(output[0..<size])
    }

    private static func zstd(_ bytes: [UInt8]) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let written = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { ZSTD_compress($0.baseAddress, $0.count, input.baseAddress, input.count, 3) }
        }
        guard ZSTD_isError(written) == 0 else { return nil }
        return Array(output[0..<written])
    }
}
