import NetCore
import Synchronization

/// What a client's off-loop calls did, for tests and benchmarks.
final class HopCounters: Sendable {
    /// Requests carried for callers that were not tasklets.
    let hops = Atomic<Int>(0)
    /// The most body bytes a connection ever held, taken off the socket and not yet read, for a
    /// caller that is not a tasklet (backpressure: at most the connection's buffer).
    let maxBytesAhead = Atomic<Int>(0)
}

extension Client {
    /// `execute` for a caller that is not a tasklet (a plain `Task`, an actor, ...). The loop
    /// engine runs the exchange in the caller's own task, moved onto the home loop's thread for
    /// the call (`withTaskExecutorPreference`: the task parks there on the loop's sockets as a
    /// tasklet's child task would; no cooperative thread blocks), and the body is read as
    /// `LoopPinnedBodySource` says: what has arrived right where the caller is, and only a read
    /// that must wait on the loop's thread. So a request costs the caller two thread switches
    /// (there and back for the head), and a body that has arrived by then none. Cancelling the
    /// caller's task cancels its wait; a body dropped early closes the connection, on the loop.
    /// The workers engine's channel crosses threads already: the caller reads it itself.
    func executeFromOutside(_ request: HTTPRequest, engine: HTTPEngine) async throws -> HTTPResponse {
        let loop = try homeLoop.loop()
        hopCounters.hops.add(1, ordering: .relaxed)
        if engine == .workers {
            return try await executeOnWorkers(request, pool: workersOverride ?? Client.sharedWorkerPool(), loop: loop)
        }
        return try await executeInTaskOnLoop(request, loop: loop)
    }

    /// The loop engine's exchange in the caller's task, on `loop`'s thread. `@concurrent`: an
    /// actor's caller would otherwise keep the call on the actor's executor (which outranks a
    /// task executor preference), and the task would park on the loop's sockets off its thread.
    @concurrent private func executeInTaskOnLoop(_ request: HTTPRequest, loop: Loop) async throws -> HTTPResponse {
        try await withTaskExecutorPreference(loop.preferredTaskExecutor) {
            assert(loop.isCurrent, "a hop's exchange must run on the loop's thread")
            let response = try await executeOnLoop(request)
            let body = LoopPinnedBodySource(
                body: response.body, loop: loop, expectedLength: response.metadata.bodyLength, counters: hopCounters)
            return HTTPResponse(metadata: response.metadata, body: HTTPBody(source: body), engine: .loop)
        }
    }
}
