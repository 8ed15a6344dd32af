import NetCore
import Synchronization

/// Body chunks that may wait between the client's loop and a caller that is not a tasklet: the
/// loop side parks once they are queued (plus the one it holds), so a reader that stops reading
/// stops the transfer (TCP then slows the server).
let hopChannelCapacity = 2

/// Counts the body bytes a hop's loop side has taken off the connection and the caller has not
/// received yet, and keeps the most ever seen in the client's `HopCounters` (backpressure,
/// asserted by tests). Two relaxed atomic adds per chunk (chunks are up to 64 KiB).
final class BodyFlow: Sendable {
    private let ahead = Atomic<Int>(0)
    private let counters: HopCounters

    init(counters: HopCounters) { self.counters = counters }

    /// The loop side took `count` bytes and is about to hand them over.
    func taken(_ count: Int) {
        let now = ahead.add(count, ordering: .relaxed).newValue
        counters.maxBytesAhead.max(now, ordering: .relaxed)
    }

    /// The caller received `count` bytes.
    func delivered(_ count: Int) { ahead.subtract(count, ordering: .relaxed) }
}

/// What a client's off-loop calls did, for tests and benchmarks.
final class HopCounters: Sendable {
    /// Requests carried for callers that were not tasklets.
    let hops = Atomic<Int>(0)
    /// The most body bytes one hop's loop side was ever ahead of its reader.
    let maxBytesAhead = Atomic<Int>(0)
}

extension Client {
    /// `execute` for a caller that is not a tasklet (a plain `Task`, an actor, ...): the exchange
    /// runs in a tasklet of the home loop, the head comes back through a channel (the caller's
    /// task suspends; no cooperative thread blocks), then the body chunk by chunk through the
    /// same bounded channel. Cancelling the caller's task (or dropping the body early) cancels
    /// that tasklet, which closes the connection rather than pooling it half read.
    func executeFromOutside(_ request: HTTPRequest, engine: HTTPEngine) async throws -> HTTPResponse {
        let loop = try homeLoop.loop()
        hopCounters.hops.add(1, ordering: .relaxed)
        if engine == .workers {
            // The worker's channel crosses threads already: the caller reads it itself.
            return try await executeOnWorkers(request, pool: workersOverride ?? Client.sharedWorkerPool(), loop: loop)
        }
        let channel = Channel<ExchangeMessage>(capacity: hopChannelCapacity)
        let flow = BodyFlow(counters: hopCounters)
        // trySpawn: a refused tasklet would leave the receive below waiting for ever.
        let carrier = try loop.trySpawn(name: "http-hop") { [self] in
            await carry(request, over: channel, flow: flow)
        }
        let first: ExchangeMessage
        do {
            first = try await channel.receive()  // a plain task parks with a cancellation handler
        } catch {
            carrier.cancel()
            channel.close()
            throw error
        }
        switch first {
        case .head(let metadata):
            let body = ChannelBodySource(channel: channel, expectedLength: metadata.bodyLength, flow: flow) {
                carrier.cancel()
            }
            return HTTPResponse(metadata: metadata, body: HTTPBody(source: body), engine: .loop)
        case .failure(let error):
            throw error
        case .chunk, .end:
            throw HTTPClientError.parse(.truncated("no response head from the client's loop"))
        }
    }

    /// The loop side of a hop: the request in place, its head, then its (decoded) body chunks
    /// over `channel`, parking while the caller has `hopChannelCapacity` unread. A closed channel
    /// or a cancellation means nobody reads any more: the body is discarded (its connection closed).
    private func carry(_ request: HTTPRequest, over channel: Channel<ExchangeMessage>, flow: BodyFlow) async {
        let response: HTTPResponse
        do { response = try await executeOnLoop(request) } catch {
            try? await channel.send(.failure(error))
            return
        }
        do {
            try await channel.send(.head(response.metadata))
            while let chunk = try await response.body.nextChunk() {
                flow.taken(chunk.count)
                try await channel.send(.chunk(chunk))
            }
            try await channel.send(.end)
        } catch {
            response.body.discard()  // a no-op when the body's own read failed (it closed already)
            if !(error is ChannelError) { try? await channel.send(.failure(error)) }
        }
    }
}
