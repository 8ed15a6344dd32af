import HTTPTestServer
import NetCore
import TestSupport
import Testing
import Workers

@testable import HTTPClient

/// 100 requests at once from a task group (cooperative threads, not tasklets), on both engines:
/// every head crosses from the client's loop (or a worker) to a caller task, and every chunk
/// through a bounded channel. Each body is checked byte by byte and every response and byte is
/// counted; `make test-tsan` runs this under ThreadSanitizer.
extension AnyTaskCalls {
    @Suite struct AnyTaskStressTests {
        @Test(arguments: HTTPEngine.allCases) func aTaskGroupOf100Requests(engine: HTTPEngine) async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let workers = try WorkerPool(threads: 8, maxQueued: 512, name: "anytask-stress")
            defer { workers.shutdown() }
            let client = Client(configuration: HTTPClientConfiguration(maxConnectionsPerHost: 16), workers: workers)
            defer { client.shutdown() }
            let base = server.baseURL
            let requests = 100
            // Sizes and seeds differ per request, so a body delivered to the wrong caller fails.
            func size(_ index: Int) -> Int { 5_000 + index * 3_001 }
            let (responses, bytes) = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 0..<requests {
                    group.addTask {
                        let seed = UInt64(index + 1)
                        let chunked = index % 4 == 0 ? "&chunked=1&chunk=4093" : ""
                        let response = try await client.get("\(base)/gen/\(size(index))?seed=\(seed)\(chunked)", engine: engine)
                        guard response.status == 200 else { throw TestFailure("request \(index): status \(response.status)") }
                        let count = try await readGenerated(response.body, seed: seed)
                        guard count == UInt64(size(index)) else { throw TestFailure("request \(index): \(count) bytes") }
                        return count
                    }
                }
                var responses = 0
                var bytes: UInt64 = 0
                for try await count in group {
                    responses += 1
                    bytes += count
                }
                return (responses, bytes)
            }
            #expect(responses == requests)
            let expected: UInt64 = (0..<requests).reduce(0) { $0 + UInt64(size($1)) }
            #expect(bytes == expected)
            #expect(server.stats.requestsServed == requests)
            #expect(client.hopCounters.hops.load(ordering: .relaxed) == requests)
            if engine == .loop { #expect(client.stats.connectionsOpened <= 16) }
        }
    }
}
