import CoreMetrics
import NetCore
import Workers

/// The gauges of issue 16 point 3, read from the stats the runtime keeps and recorded when the
/// program asks (`sample()`, or `start(on:every:)`): a client's pool connections (open, idle,
/// leased) and waiters, a loop's tasklets (alive, parked) and run-queue depth, and worker pools'
/// busy threads and queue depth. Sampling, not counting on every change, keeps the gauges off
/// the hot path. Names and dimensions are in the README's metrics table.
///
/// Thread rule: `sample()` on the given loop's thread (`Loop.stats` is read there;
/// `start(on:every:)` samples there), or from any thread when no loop is given. Starts no thread.
public final class MetricsGauges: @unchecked Sendable {  // immutable after init; the gauges are the factory's, thread-safe
    private let client: Client?
    private let loop: Loop?
    private let pools: [WorkerPool]
    private let connections: [Gauge]  // open, idle, leased
    private let waiters: Gauge
    private let tasklets: [Gauge]  // alive, parked
    private let runQueue: Gauge
    private let busy: [Gauge]
    private let queued: [Gauge]

    /// - Parameters:
    ///   - factory: where the gauges go.
    ///   - client: its loop-engine pool is sampled (nil: no pool gauges).
    ///   - loop: sampled on its own thread (nil: no loop gauges).
    ///   - pools: each labelled by its name (`pool` dimension).
    public init(factory: any MetricsFactory, client: Client? = nil, loop: Loop? = nil, pools: [WorkerPool] = []) {
        self.client = client
        self.loop = loop
        self.pools = pools
        connections = ["open", "idle", "leased"].map {
            Gauge(label: "http_client_pool_connections", dimensions: [("state", $0)], factory: factory)
        }
        waiters = Gauge(label: "http_client_pool_waiters", factory: factory)
        let loopName = loop?.name ?? ""
        tasklets = ["alive", "parked"].map {
            Gauge(label: "netcore_loop_tasklets", dimensions: [("loop", loopName), ("state", $0)], factory: factory)
        }
        runQueue = Gauge(label: "netcore_loop_run_queue_depth", dimensions: [("loop", loopName)], factory: factory)
        busy = pools.map { Gauge(label: "workers_pool_busy_threads", dimensions: [("pool", $0.name)], factory: factory) }
        queued = pools.map { Gauge(label: "workers_pool_queue_depth", dimensions: [("pool", $0.name)], factory: factory) }
    }

    /// Records every gauge once. Cost: a few locks; no allocation beyond the handlers'.
    public func sample() {
        if let client {
            let (leased, idle, waiting) = client.pool.occupancy
            connections[0].record(leased + idle)
            connections[1].record(idle)
            connections[2].record(leased)
            waiters.record(waiting)
        }
        if let loop {
            let stats = loop.stats
            tasklets[0].record(stats.taskletsAlive)
            tasklets[1].record(stats.taskletsParked)
            runQueue.record(stats.jobsReady)
        }
        for (index, pool) in pools.enumerated() {
            let stats = pool.stats
            busy[index].record(stats.busyThreads)
            queued[index].record(stats.queueDepth)
        }
    }

    /// Samples every `interval` in a tasklet on `loop` until the returned handle is cancelled.
    /// - Throws: `LoopError` when the tasklet cannot be spawned.
    @discardableResult
    public func start(on loop: Loop, every interval: Duration) throws -> TaskletHandle<Void> {
        try loop.trySpawn(name: "metrics gauges") { [self] in
            while !Task.isCancelled {
                sample()
                try await sleep(for: interval)
            }
        }
    }
}
