import ContentCoding

/// The decoding of one content-coded body (gzip, deflate, br, zstd) with no I/O: it holds the
/// encoded bytes read so far and the decoder, and says at each step whether it produced decoded
/// bytes, needs more encoded ones (and where to read them), or is done. The one decoding loop of
/// both engines: `DecodingBodySource` drives it from the loop engine's body source, and
/// `BlockingResponse` from the blocking exchange (on the worker, for the workers engine).
/// Memory: one encoded buffer of `inputSize` bytes and the decoder's window, however long the body.
final class BodyDecoding {
    enum Step {
        /// This many decoded bytes are in the caller's buffer.
        case produced(Int)
        /// Read encoded bytes into this buffer, then call `received(_:)` with the count (0 at the end).
        case needsInput(UnsafeMutableRawBufferPointer)
        /// The body is complete.
        case ended
    }

    private let decoder: ContentDecoder
    private let input: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var sourceEnded = false

    init(_ decoder: ContentDecoder, inputSize: Int = 64 << 10) {
        self.decoder = decoder
        input = .allocate(byteCount: inputSize, alignment: 16)
    }

    deinit { input.deallocate() }

    /// Decodes into `buffer` (not empty) what the encoded bytes held so far allow.
    /// - Throws: `HTTPClientError.decoding` (corrupt, cut short, trailing garbage, a limit
    ///   passed, or no progress); the caller must then close the connection.
    func step(into buffer: UnsafeMutableRawBufferPointer) throws -> Step {
        var stalled = false
        while true {
            let step: (consumed: Int, produced: Int)
            do {
                step = try decoder.decode(UnsafeRawBufferPointer(rebasing: input[start..<end]), into: buffer)
            } catch {
                throw HTTPClientError.decoding(error)
            }
            start += step.consumed
            if step.produced > 0 { return .produced(step.produced) }
            if start < end {
                // Input left and room given, yet nothing moved twice in a row: never loop on it.
                if step.consumed == 0 && stalled { throw HTTPClientError.decoding(.corrupt(decoder.coding, detail: "no progress")) }
                stalled = step.consumed == 0
                continue
            }
            if sourceEnded {
                do { try decoder.finish() } catch { throw HTTPClientError.decoding(error) }
                return .ended
            }
            start = 0
            end = 0
            return .needsInput(input)
        }
    }

    /// `count` encoded bytes were read into the buffer `step` gave; 0 means the body ended.
    func received(_ count: Int) {
        end = count
        sourceEnded = count == 0
    }
}

/// The loop engine's decoded body: `BodyDecoding` fed from the exchange, on the reading tasklet.
final class DecodingBodySource: BodySource {
    private let source: BodySource
    private let decoding: BodyDecoding
    /// Where `nextChunk` decodes to before copying into its array (no array across an await).
    private var chunkScratch: UnsafeMutableRawBufferPointer?
    private let chunkSize: Int

    init(_ source: BodySource, decoding: BodyDecoding, chunkSize: Int = 64 << 10) {
        self.source = source
        self.decoding = decoding
        self.chunkSize = chunkSize
    }

    deinit { chunkScratch?.deallocate() }

    /// The decoded length is not known ahead.
    var expectedLength: Int? { nil }

    func abandon() { source.abandon() }

    nonisolated(nonsending) func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let step: BodyDecoding.Step
            do { step = try decoding.step(into: buffer) } catch {
                source.abandon()  // the rest is of no use, and the connection must not be reused
                throw error
            }
            switch step {
            case .produced(let count): return count
            case .ended: return 0
            case .needsInput(let space): decoding.received(try await source.read(into: space))
            }
        }
    }

    nonisolated(nonsending) func nextChunk() async throws -> [UInt8]? {
        let scratch = chunkScratch ?? .allocate(byteCount: chunkSize, alignment: 16)
        chunkScratch = scratch
        let count = try await read(into: scratch)
        guard count > 0 else { return nil }
        return Array(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
    }
}
