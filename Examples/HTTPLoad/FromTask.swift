import HTTPClient
import NetCore
import Synchronization
import Workers

/// Hands out request numbers to tasks on any thread.
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}

/// `many` from plain tasks (a task group on the cooperative pool), not tasklets: every request
/// hops to the client's home loop and back, and a body read that must wait hops there too, so
/// the figures beside `many`'s give the hop's cost per request.
/// - Returns: the body bytes of all of them.
func manyFromTasks(_ url: String, client: Client, engine: HTTPEngine, requests: Int, connections: Int, chunks: Bool) async throws -> Int {
    let next = SharedCounter()
    let request = try HTTPRequest(url)
    return try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<connections {
            group.addTask {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 64)
                defer { buffer.deallocate() }
                var bytes = 0
                while next.take() < requests {
                    let response = try await client.execute(request, engine: engine)
                    bytes += try await drain(response.body, into: buffer, chunks: chunks)
                }
                return bytes
            }
        }
        var total = 0
        for try await bytes in group { total += bytes }
        return total
    }
}

/// `download` or `many` from a plain task: the runs as the tasklet path makes them, with the
/// main thread waiting on a channel (it is no loop's thread, so it may block).
func runFromTask(_ setup: LoadSetup, results: RunResults) throws {
    let (mode, url, engine, requests, connections, runs, workers, useChunks) = (
        setup.mode, setup.url, setup.engine, setup.requests, setup.connections, setup.runs, setup.workers, setup.useChunks
    )
    let done = Channel<Result<Void, any Error>>(capacity: 1)
    Task.detached {
        do {
            for run in 0...runs {  // run 0 warms up
                let client = Client(configuration: HTTPClientConfiguration(maxConnectionsPerHost: connections), workers: workers)
                let cpuBefore = processCPUSeconds()
                let start = ContinuousClock.now
                let bytes =
                    mode == "download"
                    ? try await download(url, client: client, engine: engine, chunks: useChunks)
                    : try await manyFromTasks(
                        url, client: client, engine: engine, requests: requests, connections: connections, chunks: useChunks)
                let figures = RunFigures(
                    bytes: bytes, requests: mode == "download" ? 1 : requests,
                    elapsed: ContinuousClock.now - start, cpuSeconds: processCPUSeconds() - cpuBefore)
                client.shutdown()  // its loop thread closes the connections it pooled and ends
                if run > 0 { results.add(figures) }
            }
            try done.sendBlocking(.success(()))
        } catch {
            try? done.sendBlocking(.failure(error))
        }
    }
    try done.receiveBlocking().get()
}

/// The command line's choices, handed to `runFromTask`.
struct LoadSetup: @unchecked Sendable {  // read-only after main.swift made it; `workers` is thread-safe
    var mode: String
    var url: String
    var engine: HTTPEngine
    var requests: Int
    var connections: Int
    var runs: Int
    var workers: WorkerPool?
    var useChunks: Bool
}
