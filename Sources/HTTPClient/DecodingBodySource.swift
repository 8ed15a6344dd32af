import ContentCoding

/// A body source that decodes another (gzip, deflate, br, zstd) as it is read: the one place
/// both engines' bodies are decoded, on the reading tasklet. Memory: one encoded buffer of
/// `inputSize` bytes and the decoder's window, however long the body.
final class DecodingBodySource: BodySource {
    private let source: BodySource
    private let decoder: ContentDecoder
    private let input: UnsafeMutableRawBufferPointer
    /// Where `nextChunk` decodes to before copying into its array (no array across an await).
    private var chunkScratch: UnsafeMutableRawBufferPointer?
    private var start = 0
    private var end = 0
    private var sourceEnded = false

    init(_ source: BodySource, decoder: ContentDecoder, inputSize: Int = 64 << 10) {
        self.source = source
        self.decoder = decoder
        input = .allocate(byteCount: inputSize, alignment: 16)
    }

    deinit {
        input.deallocate()
        chunkScratch?.deallocate()
    }

    /// The decoded length is not known ahead.
    var expectedLength: Int? { nil }

    func abandon() { source.abandon() }

    nonisolated(nonsending) func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        guard buffer.count > 0 else { return 0 }
        var stalled = false
        while true {
            let step: (consumed: Int, produced: Int)
            do {
                step = try decoder.decode(UnsafeRawBufferPointer(rebasing: input[start..<end]), into: buffer)
            } catch {
                source.abandon()  // the rest is of no use, and the connection must not be reused
                throw HTTPClientError.decoding(error)
            }
            start += step.consumed
            if step.produced > 0 { return step.produced }
            if start < end {
                // Input left and room given, yet nothing moved twice in a row: never loop on it.
                if step.consumed == 0 && stalled {
                    source.abandon()
                    throw HTTPClientError.decoding(.corrupt(decoder.coding, detail: "no progress"))
                }
                stalled = step.consumed == 0
                continue
            }
            if sourceEnded {
                do { try decoder.finish() } catch { throw HTTPClientError.decoding(error) }
                return 0
            }
            start = 0
            end = try await source.read(into: input)
            sourceEnded = end == 0
        }
    }

    nonisolated(nonsending) func nextChunk() async throws -> [UInt8]? {
        let scratch = chunkScratch ?? .allocate(byteCount: input.count, alignment: 16)
        chunkScratch = scratch
        let count = try await read(into: scratch)
        guard count > 0 else { return nil }
        return Array(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
    }
}
