import CLibev
import TestSupport
import Testing

@testable import NetCore

@Suite struct FootprintTests {
    /// Spawns 100 tasklets parked on a channel, pumping until they are all parked; then closes the
    /// channel and pumps until they have all ended. Returns the footprint at both points.
    private func parkHundred(on loop: Loop) throws -> (parked: Footprint, ended: Footprint) {
        let gate = Channel<Int>()
        let handles = (0..<100).map { _ in loop.spawn { _ = try? await gate.receive() } }
        var frames = 0
        while loop.stats.taskletsParked < 100 {
            loop.pump(budget: .milliseconds(5))
            frames += 1
            if frames > 1000 { throw TestFailure("the tasklets never all parked: \(loop.stats)") }
        }
        let parked = loop.footprint
        gate.close()
        while handles.contains(where: \.isAlive) || loop.stats.taskletsAlive > 0 {
            loop.pump(budget: .milliseconds(5))
            frames += 1
            if frames > 2000 { throw TestFailure("the tasklets never ended: \(loop.stats)") }
        }
        loop.pump(budget: .milliseconds(1))  // purges the finished tasklets' table entries
        return (parked, loop.footprint)
    }

    @Test func parkedTaskletsRaiseTheFootprintAndItFallsBackWhenTheyEnd() throws {
        let loop = try Loop()
        let idle = loop.footprint
        #expect(idle.loopBytes > MemoryLayout<Int>.size * 8, "the loop's own objects are measured: \(idle)")
        #expect(idle.runQueueCapacity == 1024 && idle.runQueueBytes >= 1024 * MemoryLayout<QueuedJob>.stride)
        #expect(idle.taskletTableSlots >= 128, "the table is read: \(idle)")
        #expect(idle.taskletsAlive == 0 && idle.taskletBytes == 0)
        #expect(Footprint.bytesPerTasklet > 0)
        // Every parked tasklet pays for the object: a field added must be weighed (56 B of
        // fields in a 64 B block; a given name is boxed, the flags and park id share a word).
        #expect(Footprint.bytesPerTasklet <= 64, "the Tasklet object grew to \(Footprint.bytesPerTasklet) B")
        #expect(
            Footprint.bytesPerSocket > MemoryLayout<ev_io>.stride + 2 * MemoryLayout<ev_timer>.stride,
            "the socket (its ev_io inside) and two timers")

        let first = try parkHundred(on: loop)
        #expect(first.parked.taskletsAlive == 100 && first.parked.taskletsParked == 100)
        #expect(first.parked.taskletBytes == 100 * Footprint.bytesPerTasklet)
        #expect(first.parked.totalBytes >= idle.totalBytes + 100 * Footprint.bytesPerTasklet)
        #expect(first.parked.inboxHighWater >= 100, "spawned from outside the loop: through the inbox")
        #expect(first.parked.runQueueHighWater >= 100)
        #expect(first.ended.taskletsAlive == 0 && first.ended.taskletBytes == 0)
        #expect(first.ended.totalBytes < first.parked.totalBytes, "it falls when they end: \(first.ended)")
        // What stays is capacity grown to the high-water mark, which the report itself shows.
        let grown =
            (first.ended.taskletTableBytes - idle.taskletTableBytes) + (first.ended.inboxBytes - idle.inboxBytes)
            + (first.ended.runQueueBytes - idle.runQueueBytes)
        #expect(first.ended.totalBytes == idle.totalBytes + grown)

        // A second round moves by exactly the tasklets and back, plus any capacity that grew
        // again (under a loaded machine the inbox can see more at once the second time; the
        // report shows it, and nothing else may stay).
        let second = try parkHundred(on: loop)
        let grownAgain =
            (second.ended.taskletTableBytes - first.ended.taskletTableBytes)
            + (second.ended.inboxBytes - first.ended.inboxBytes) + (second.ended.runQueueBytes - first.ended.runQueueBytes)
        #expect(grownAgain >= 0)
        #expect(second.parked.totalBytes <= first.ended.totalBytes + grownAgain + 100 * Footprint.bytesPerTasklet)
        #expect(second.ended.totalBytes == first.ended.totalBytes + grownAgain, "\(first.ended) then \(second.ended)")
    }

    @Test func aTaskletWaitingOnASocketCountsItsWatcher() throws {
        let loop = try Loop()
        let (left, right) = try StreamSocket.makePair()
        let reader = loop.spawn { try await right.read(maxBytes: 8) }
        var frames = 0
        while loop.stats.activeWatchers == 0 {
            loop.pump(budget: .milliseconds(1))
            frames += 1
            if frames > 1000 { throw TestFailure("the reader never parked") }
        }
        let waiting = loop.footprint
        #expect(waiting.activeWatchers == 1 && waiting.watcherBytes >= MemoryLayout<ev_io>.stride)
        left.close()  // the reader wakes with end-of-stream
        while reader.isAlive {
            loop.pump(budget: .milliseconds(1))
            frames += 1
            if frames > 2000 { throw TestFailure("the reader never ended") }
        }
        #expect(loop.footprint.watcherBytes == 0)
        right.close()
    }
}
