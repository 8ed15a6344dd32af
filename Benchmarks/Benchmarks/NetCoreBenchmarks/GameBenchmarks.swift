// What the net layer costs a game each frame (issue 7). No anchor: gevent and asyncio have no
// frame-budgeted pump; the figure to read is the cost against a 16.6 ms frame and a 2 ms budget.
// The whole game figure (frame times while downloading) is Examples/GameClient and
// scripts/bench-game.sh; memory per piece is Examples/Footprint.
import Benchmark
import NetCore

func gameBenchmarks() {
    // The floor a game pays every frame: one non-blocking poll with nothing ready, while 100
    // tasklets are parked on a channel (login, chat, sync waiting for something to happen).
    Benchmark(
        "pump, idle frame, 100 parked tasklets",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        let loop = try Loop(name: "game", limits: LoopLimits(maxTasklets: 128, retainedRunQueueSlots: 64))
        loop.disableWatchdog()
        let gate = Channel<Int>()
        for _ in 0..<100 { loop.spawn { _ = try? await gate.receive() } }
        while loop.stats.taskletsParked < 100 { loop.pump(budget: .milliseconds(2)) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(loop.pump(budget: .milliseconds(2))) }
        benchmark.stopMeasurement()
        gate.close()
        while loop.stats.taskletsAlive > 0 { loop.pump(budget: .milliseconds(2)) }
    }

    // A busy frame: the game posts 64 events (buffered channel sends from the game thread) and
    // the pump delivers them to 64 tasklets parked on the channel, each of which parks again.
    Benchmark(
        "pump, frame delivering 64 channel messages to parked tasklets",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        let loop = try Loop(name: "game")
        loop.disableWatchdog()
        let events = Channel<Int>(capacity: 64)
        let delivered = Counter()
        for _ in 0..<64 { loop.spawn { while (try? await events.receive()) != nil { delivered.add() } } }
        while loop.stats.taskletsParked < 64 { loop.pump(budget: .milliseconds(2)) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for event in 0..<64 { try events.sendBlocking(event) }  // room for all 64: never blocks
            blackHole(loop.pump(budget: .milliseconds(2)))
        }
        benchmark.stopMeasurement()
        precondition(delivered.value == 64 * benchmark.scaledIterations.count, "every event delivered within its frame")
        events.close()
        while loop.stats.taskletsAlive > 0 { loop.pump(budget: .milliseconds(2)) }
    }
}

/// Events delivered, counted on the loop's thread and read on the same thread after the pumps.
final class Counter: @unchecked Sendable {  // only the thread that pumps touches it
    private(set) var value = 0
    func add() { value += 1 }
}
