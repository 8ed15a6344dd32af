import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing
import Workers

/// Many requests at once through the workers engine: every head, chunk and error crosses from a
/// worker thread to the loop through a channel. Each body is checked byte by byte and every
/// request is counted; `make test-tsan` runs this under ThreadSanitizer.
@Suite struct WorkersEngineStressTests {
    @Test func everyBodyArrivesWholeAcrossThreads() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let base = server.baseURL
        let pool = try WorkerPool(threads: 6, maxQueued: 512, name: "stress-http")
        defer { pool.shutdown() }
        let client = Client(configuration: HTTPClientConfiguration(maxConnectionsPerHost: 6), workers: pool)
        let requests = 120
        let loop = try Loop()
        let results = Channel<Result<UInt64, any Error>>(capacity: requests)
        for index in 0..<requests {
            loop.spawn(name: "request \(index)") {
                do {
                    // Sizes and seeds differ per request so a body delivered to the wrong caller fails.
                    let size = 10_000 + index * 1_777
                    let seed = UInt64(index + 1)
                    let chunked = index % 3 == 0 ? "&chunked=1&chunk=4093" : ""
                    let response = try await client.get("\(base)/gen/\(size)?seed=\(seed)\(chunked)", engine: .workers)
                    let count = try await readGenerated(response.body, seed: seed)
                    guard count == UInt64(size) else { throw TestFailure("request \(index): \(count) of \(size) bytes") }
                    try await results.send(.success(count))
                } catch {
                    try? await results.send(.failure(error))
                }
            }
        }
        let total = Box<UInt64?>(nil)
        loop.spawn(name: "collector") {
            var sum: UInt64 = 0
            for _ in 0..<requests { sum += try await results.receive().get() }
            total.value = sum
        }
        loop.run()
        let expected = (0..<requests).reduce(UInt64(0)) { $0 + UInt64(10_000 + $1 * 1_777) }
        #expect(total.value == expected, "every request's bytes, each counted once")
        #expect(server.stats.requestsServed == requests)
        #expect(pool.stats.failed == 0)
    }
}
