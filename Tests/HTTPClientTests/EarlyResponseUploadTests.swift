import HTTPClient
import HTTPTestServer
import Synchronization
import Testing

/// Zero-filled chunks, made as they are asked for, counting how many were taken.
private struct CountedChunks: AsyncSequence, Sendable {
    let chunkSize: Int
    let count: Int
    let taken = Counter()
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let source: CountedChunks
        var index = 0
        mutating func next() async throws -> [UInt8]? {
            guard index < source.count else { return nil }
            index += 1
            source.taken.value.add(1, ordering: .relaxed)
            return [UInt8](repeating: 0, count: source.chunkSize)
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: self) }
}

/// A server that takes part of a streamed upload, answers 413 and closes while the client is
/// still sending (the test server's maxBody=N: 413 after N body bytes, then it reads for
/// 500 ms at most and closes, so the client's next write fails with a reset or broken pipe).
/// The client reports the server's 413 as the response, as curl does (it reads the answer that
/// came early instead of the broken pipe), stops taking chunks from the source, and never
/// sends the body again.
@Suite("A 413 and a close while a streamed body is being sent")
struct EarlyResponseUploadTests {
    static let limit = 256 << 10

    @Test(
        "the 413 is the response; the rest of the body is not read from the source nor sent again",
        .timeLimit(.minutes(1)), arguments: HTTPEngine.allCases, [true, false])
    func payloadTooLarge(engine: HTTPEngine, withLength: Bool) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        try upload(to: server, client: Client(), engine: engine, withLength: withLength)
    }

    @Test("the same over TLS (the server closes without reading on)", .timeLimit(.minutes(1)), arguments: HTTPEngine.allCases)
    func payloadTooLargeOverTLS(engine: HTTPEngine) throws {
        let (server, certificate) = try startSecureTestServer()
        defer { server.stop() }
        try upload(
            to: server, client: Client(configuration: HTTPClientConfiguration(tls: TLSConfiguration(caFile: certificate))), engine: engine)
    }

    private func upload(to server: TestHTTPServer, client: Client, engine: HTTPEngine, withLength: Bool = false) throws {
        // 64 MiB: far more than the server reads (256 KiB, then at most 1 MiB while it closes)
        // and than loopback's socket buffers hold, so the client is still sending at the close.
        let chunks = CountedChunks(chunkSize: 64 << 10, count: 1024)
        let outcome: Result<(status: Int, body: String), any Error> = try onLoop {
            var request = try HTTPRequest("\(server.baseURL)/upload?maxBody=\(Self.limit)", method: "POST")
            request.streamingBody = .stream(chunks, length: withLength ? 1024 * (64 << 10) : nil)
            do {
                let response = try await client.execute(request, engine: engine)
                let body = try await response.body.collect(upTo: 1 << 16)
                return .success((response.status, String(decoding: body, as: UTF8.self)))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let response):
            #expect(response.status == 413)
            #expect(response.body.hasPrefix("413 ") && response.body.contains("\(Self.limit)"), "\(response.body)")
        case .failure(let error):
            Issue.record("the server's 413 was not reported: \(error)")
        }
        let taken = chunks.taken.value.load(ordering: .relaxed)
        #expect(taken < chunks.count, "the whole body was taken from the source (\(taken) chunks)")
        #expect(server.stats.connectionsAccepted == 1, "the streamed body was sent again")
        #expect(server.stats.requestsServed == 1)
    }
}
