// Channel hand-offs from plain threads into one tasklet, with 1 and with 4 sending threads.
// They chose the lock that guards a channel's state: a spin lock did not beat PThreadMutex on
// the contended ones, so it went (figures in PThreadMutex's doc comment). Each iteration checks
// the count and the sum of the messages received.
import Benchmark
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

func channelContentionBenchmarks() {
    let metric = BenchmarkMetric.custom("ns per message", polarity: .prefersSmaller, useScalingFactor: false)
    for (senders, capacity) in [(4, 0), (4, 64), (1, 0), (1, 64)] {
        let kind = senders > 1 ? "contended" : "uncontended"
        let shape = capacity == 0 ? "rendezvous" : "capacity \(capacity)"
        Benchmark(
            "\(kind) channel hand-off, \(senders) thread(s) -> 1 tasklet, \(shape)",
            configuration: .init(metrics: [metric], warmupIterations: 1, maxDuration: .seconds(3), maxIterations: 15)
        ) { benchmark in
            // 100 000 messages an iteration whatever the number of senders, so the figures compare.
            let messagesPerSender = 100_000 / senders
            let result = try channelHandOff(senders: senders, messagesPerSender: messagesPerSender, capacity: capacity)
            let expected = senders * messagesPerSender
            guard result.received == expected, result.sum == expectedSum(senders: senders, messagesPerSender: messagesPerSender)
            else {
                benchmark.error("received \(result.received) messages (sum \(result.sum)), expected \(expected)")
                return
            }
            benchmark.measurement(metric, Int(result.nanoseconds / Int64(expected)))
        }
    }
}

/// Sender `s` sends `s * messagesPerSender + i` for each i, so the sum tells a lost or
/// duplicated message from a complete run.
private func expectedSum(senders: Int, messagesPerSender: Int) -> Int {
    let total = senders * messagesPerSender
    return total * (total - 1) / 2
}

/// `senders` OS threads each send `messagesPerSender` values with `sendBlocking` into one
/// channel; one tasklet on a loop (driven by the calling thread) receives them all.
private func channelHandOff(
    senders: Int, messagesPerSender: Int, capacity: Int
) throws -> (received: Int, sum: Int, nanoseconds: Int64) {
    let loop = try Loop()
    loop.disableWatchdog()
    let channel = Channel<Int>(capacity: capacity)
    let tally = Tally()
    let total = senders * messagesPerSender
    loop.spawn {
        for _ in 0..<total {
            tally.sum &+= try await channel.receive()
            tally.received += 1
        }
    }
    // The receiver parks first, so every sender meets a loop that has to be woken.
    loop.pump(budget: .milliseconds(10))
    let start = monotonicNanoseconds()
    var threads: [pthread_t] = []
    for sender in 0..<senders {
        let first = sender * messagesPerSender
        threads.append(
            try OSThreads.start {
                for value in first..<(first + messagesPerSender) {
                    do { try channel.sendBlocking(value) } catch { return }  // never closed here
                }
            })
    }
    loop.run()
    let elapsed = monotonicNanoseconds() - start
    for thread in threads { pthread_join(thread, nil) }
    return (tally.received, tally.sum, elapsed)
}

/// The receiving tasklet's counts, read by the benchmark thread after `loop.run()` returns
/// (the loop ran on that same thread).
private final class Tally: @unchecked Sendable {  // touched only on the loop's thread
    var received = 0
    var sum = 0
}
