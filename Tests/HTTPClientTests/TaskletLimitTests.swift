import HTTPTestServer
import NetCore
import Testing

@testable import HTTPClient

/// The library's own helper tasklets on a loop at its `LoopLimits.maxTasklets`: a request that
/// needs one fails at once with the reason instead of waiting for a tasklet that never runs,
/// and a split download fetches the refused segments itself.
@Suite struct TaskletLimitTests {
    /// Runs `body` as the only tasklet its loop allows.
    private func onFullLoop<T: Sendable>(_ body: sending @escaping () async throws -> T) throws -> T {
        try onLoop(limits: LoopLimits(maxTasklets: 1), body)
    }

    @Test func aWorkersEngineRequestOnAFullLoopFailsAtOnceWithTheReason() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/1000"
        let error = try onFullLoop { () async -> (any Error)? in
            await errorThrown { _ = try await Client().get(url, engine: .workers) }
        }
        #expect(error as? LoopError == .taskletLimitReached(1), "\(String(describing: error))")
        #expect(server.stats.requestsServed == 0, "nothing was sent")
        // The loop engine needs no helper tasklet: the same request works on the same kind of loop.
        let body = try onFullLoop { try await Client().get(url, engine: .loop).body.collect() }
        #expect(isGenerated(body, seed: 1) && body.count == 1000)
    }

    @Test func aSplitDownloadOnAFullLoopFetchesTheRefusedSegmentsItself() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let size = 6 << 20
        let url = try HTTPURL("\(server.baseURL)/gen/\(size)?seed=8")
        let (total, bytes) = try onFullLoop {
            let sink = MemorySink(size: size)
            let downloader = Downloader(client: Client(), options: DownloadOptions(connections: 4))
            return (try await downloader.run(url: url, sink: sink).totalBytes, sink.bytes)
        }
        #expect(total == UInt64(size))
        #expect(isGenerated(bytes, seed: 8), "every segment's bytes at their offsets")
        #expect(server.stats.requestsServed >= 4, "it was split: the first span and three segments")
    }
}
