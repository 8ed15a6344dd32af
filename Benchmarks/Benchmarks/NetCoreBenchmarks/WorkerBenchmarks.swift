// Worker pool and lock benchmarks. Anchors: bench/threadcall.py gevent / uvloop
// (threadpool.apply / run_in_executor of a no-op).
import Benchmark
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

func workerBenchmarks() {
    // Anchor: Anchors/python/threadcall.py (one caller's round trips, p50/p99).
    Benchmark(
        "callAsync no-op round trip latency, 1 tasklet",
        configuration: .init(
            metrics: [.custom("latency ns", polarity: .prefersSmaller, useScalingFactor: false)],
            warmupIterations: 0, maxIterations: 1)
    ) { benchmark in
        let pool = try WorkerPool(threads: 2, name: "bench")
        defer { pool.shutdown() }
        let loop = try Loop()
        loop.disableWatchdog()
        let samples = SampleBox()
        loop.spawn {
            for _ in 0..<500 { _ = try await pool.callAsync { _ in 1 } }  // warm-up
            for _ in 0..<20_000 {
                let start = monotonicNanoseconds()
                _ = try await pool.callAsync { _ in 1 }
                samples.values.append(Int(monotonicNanoseconds() - start))
            }
        }
        loop.run()
        let metric = BenchmarkMetric.custom("latency ns", polarity: .prefersSmaller, useScalingFactor: false)
        for value in samples.values { benchmark.measurement(metric, value) }
    }

    // Anchor: Anchors/python/threadcall.py (throughput of 8 concurrent callers).
    Benchmark(
        "callAsync no-op throughput, 8 tasklets",
        configuration: .init(
            metrics: [.custom("calls/s", polarity: .prefersLarger, useScalingFactor: false)],
            warmupIterations: 1, maxIterations: 5)
    ) { benchmark in
        let pool = try WorkerPool(threads: 2, name: "bench")
        defer { pool.shutdown() }
        let loop = try Loop()
        loop.disableWatchdog()
        let callsPerTasklet = 25_000
        let start = monotonicNanoseconds()
        for _ in 0..<8 {
            loop.spawn { for _ in 0..<callsPerTasklet { _ = try await pool.callAsync { _ in 1 } } }
        }
        loop.run()
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        benchmark.measurement(
            .custom("calls/s", polarity: .prefersLarger, useScalingFactor: false),
            Int(Double(8 * callsPerTasklet) / seconds))
    }

    // A lock handed back and forth between two plain threads (two semaphores, ping-pong).
    Benchmark(
        "semaphore hand-off round trip, 2 threads",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .kilo)
    ) { benchmark in
        let rounds = benchmark.scaledIterations.count
        let ping = NetCore.Semaphore(0)
        let pong = NetCore.Semaphore(0)
        let other = startThread {
            for _ in 0..<rounds {
                ping.acquireBlocking()
                pong.release()
            }
        }
        benchmark.startMeasurement()
        for _ in 0..<rounds {
            ping.release()
            pong.acquireBlocking()
        }
        benchmark.stopMeasurement()
        pthread_join(other, nil)
    }
}

/// Latency samples appended by one tasklet, read after `run()` returns.
final class SampleBox: @unchecked Sendable {  // written on the loop thread, read after run()
    var values: [Int] = []
}
