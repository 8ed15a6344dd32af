import HTTPClient
import HTTPTestServer
import NetCore

/// What crosses from the downloading loop to the verifying loop (another thread), in order.
enum PipelineMessage: Sendable {
    /// Bytes of the body at `offset`; `sequence` counts every chunk of the download from 0.
    case chunk(sequence: UInt64, offset: UInt64, bytes: [UInt8])
    /// The download starts over from byte 0 (the server ignored a range, or the file changed).
    case restart(sequence: UInt64)
    /// The download finished: the sender sent `chunks` messages and `bytes` bytes in all.
    case finished(chunks: UInt64, totalBytes: UInt64)
}

/// The download's sink: copies each piece into a message and sends it over a bounded channel
/// to the verifier on the other thread (parking while the verifier is behind: backpressure).
final class ChannelSink: DownloadSink, @unchecked Sendable {  // used by one download's tasklets on one loop
    let channel: Channel<PipelineMessage>
    private(set) var sequence: UInt64 = 0
    private(set) var bytesSent: UInt64 = 0
    private(set) var finished = false
    /// Told of every chunk handed over (the throughput counters).
    var onBytes: (Int) -> Void = { _ in }

    init(channel: Channel<PipelineMessage>) { self.channel = channel }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) async throws {
        let copy = Array(bytes)
        try await channel.send(.chunk(sequence: sequence, offset: offset, bytes: copy))
        sequence += 1
        bytesSent += UInt64(copy.count)
        onBytes(copy.count)
    }

    func discardAll() async throws {
        try await channel.send(.restart(sequence: sequence))
        sequence += 1
    }

    /// Tells the verifier the download is complete (once).
    func finish(totalBytes: UInt64) async throws {
        guard !finished else { return }
        try await channel.send(.finished(chunks: sequence, totalBytes: totalBytes))
        finished = true
    }
}

/// A verification failure, naming where.
struct VerificationFailure: Error, CustomStringConvertible, Sendable {
    let download: Int
    let engine: String
    let offset: UInt64
    let chunk: UInt64
    let problem: String
    var description: String { "download \(download) (\(engine) engine), chunk \(chunk) at offset \(offset): \(problem)" }
}

/// Runs on the verifying loop: checks every chunk's sequence number, offset and bytes against
/// the generated content as it arrives, keeping nothing but two counters.
struct ChunkVerifier {
    let plan: DownloadPlan
    private var expectedSequence: UInt64 = 0
    private var expectedOffset: UInt64 = 0
    private(set) var chunksReceived: UInt64 = 0
    private(set) var bytesVerified: UInt64 = 0

    init(plan: DownloadPlan) { self.plan = plan }

    /// - Returns: true at the end of the download. - Throws: `VerificationFailure`.
    mutating func check(_ message: PipelineMessage) throws -> Bool {
        func fail(_ problem: String, offset: UInt64, chunk: UInt64) -> VerificationFailure {
            VerificationFailure(download: plan.id, engine: plan.engine.rawValue, offset: offset, chunk: chunk, problem: problem)
        }
        switch message {
        case .chunk(let sequence, let offset, let bytes):
            guard sequence == expectedSequence else {
                throw fail(
                    sequence < expectedSequence
                        ? "duplicate or reordered chunk (expected chunk \(expectedSequence))"
                        : "chunks \(expectedSequence)..<\(sequence) lost", offset: offset, chunk: sequence)
            }
            guard offset == expectedOffset else {
                throw fail("offset gap or overlap: expected \(expectedOffset)", offset: offset, chunk: sequence)
            }
            guard !bytes.isEmpty else { throw fail("an empty chunk where data was sent", offset: offset, chunk: sequence) }
            guard offset + UInt64(bytes.count) <= plan.size else {
                throw fail("bytes past the end (\(plan.size))", offset: offset, chunk: sequence)
            }
            if let bad = bytes.withUnsafeBytes({ GeneratedContent.firstMismatch(in: $0, seed: plan.seed, offset: offset) }) {
                throw fail("wrong byte at \(offset + UInt64(bad))", offset: offset, chunk: sequence)
            }
            expectedSequence += 1
            expectedOffset += UInt64(bytes.count)
            chunksReceived += 1
            bytesVerified += UInt64(bytes.count)
            return false
        case .restart(let sequence):
            guard sequence == expectedSequence else { throw fail("restart out of order", offset: expectedOffset, chunk: sequence) }
            expectedSequence += 1
            expectedOffset = 0
            return false
        case .finished(let chunks, let totalBytes):
            guard chunks == expectedSequence else {
                throw fail("the sender sent \(chunks) messages, \(expectedSequence) arrived", offset: expectedOffset, chunk: chunks)
            }
            guard totalBytes == plan.size, expectedOffset == plan.size else {
                throw fail("finished at \(expectedOffset) of \(plan.size) bytes", offset: expectedOffset, chunk: chunks)
            }
            return true
        }
    }
}
