import Testing

@testable import GameNet

/// The host's timer heap pops wake times in order, whatever order they were pushed in.
@Suite struct WakeQueueTests {
    @Test func popsInWakeOrderAndRebuildKeepsOnlyWhatItIsGiven() {
        var random = SeededRandom(seed: 61)
        var queue = WakeQueue()
        var pushed: [Int64] = []
        for id in 0..<500 {
            let wake = Int64(random.next() % 10_000)
            pushed.append(wake)
            queue.push(wake, UInt64(id))
        }
        var popped: [Int64] = []
        while let entry = queue.popMin() { popped.append(entry.wakeNs) }
        #expect(popped == pushed.sorted())
        #expect(queue.min == nil && queue.count == 0)

        for id in 0..<10 { queue.push(Int64(100 - id), UInt64(id)) }
        queue.rebuild([(wakeNs: 7, id: 70), (wakeNs: 3, id: 30)])
        #expect(queue.count == 2)
        #expect(queue.popMin()?.id == 30 && queue.popMin()?.id == 70 && queue.popMin() == nil)
    }
}
