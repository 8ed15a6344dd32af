import Testing

@testable import GameNet

/// The Reassembler alone: what it charges, that a duplicate costs nothing, that a refusal
/// changes nothing, and that completing a message frees its charge.
@Suite struct ReassemblerTests {
    @Test func chargesPayloadAndBookkeepingOnceAndFreesOnCompletion() throws {
        var r = Reassembler(fragmentSize: 4, maxFragments: 3, budget: 10_000)
        #expect(try r.add(channel: 0, sequence: 11, index: 1, count: 3, payload: [5, 6, 7, 8]) == nil)
        let first = Reassembler.partialOverhead + 3 * Reassembler.slotCost + 4 + Reassembler.pieceOverhead
        #expect(r.heldBytes == first && r.partialCount == 1)
        #expect(try r.add(channel: 0, sequence: 11, index: 1, count: 3, payload: [5, 6, 7, 8]) == nil)
        #expect(r.heldBytes == first, "a duplicate is not charged again")
        #expect(try r.add(channel: 0, sequence: 12, index: 2, count: 3, payload: [9]) == nil)
        // The same start on another channel is another message.
        #expect(try r.add(channel: 1, sequence: 10, index: 0, count: 2, payload: [0, 0, 0, 0]) == nil)
        #expect(r.partialCount == 2)
        #expect(try r.add(channel: 0, sequence: 10, index: 0, count: 3, payload: [1, 2, 3, 4]) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(r.partialCount == 1)
        r.removeAll()
        #expect(r.heldBytes == 0 && r.partialCount == 0)
    }

    @Test func aRefusedFragmentChangesNothing() throws {
        let one = Reassembler.partialOverhead + 2 * Reassembler.slotCost + 4 + Reassembler.pieceOverhead
        var r = Reassembler(fragmentSize: 4, maxFragments: 4, budget: one + 4 + Reassembler.pieceOverhead)
        _ = try r.add(channel: 0, sequence: 0, index: 0, count: 2, payload: [1, 2, 3, 4])
        #expect(throws: ReassemblyError.peerBudgetExceeded(limit: r.budget)) {
            try r.add(channel: 0, sequence: 2, index: 0, count: 2, payload: [1, 2, 3, 4])  // a second partial: over
        }
        #expect(throws: ReassemblyError.countMismatch(expected: 2, got: 3)) {
            try r.add(channel: 0, sequence: 1, index: 1, count: 3, payload: [1, 2, 3, 4])
        }
        #expect(throws: ReassemblyError.hostBudgetExceeded) {
            try r.add(channel: 0, sequence: 1, index: 1, count: 2, payload: [9], hostRoom: 10)
        }
        #expect(throws: ReassemblyError.badFragmentSize(index: 0, size: 3)) {
            try r.add(channel: 1, sequence: 0, index: 0, count: 2, payload: [1, 2, 3])
        }
        #expect(throws: ReassemblyError.badCount(index: 0, count: 5)) {
            try r.add(channel: 1, sequence: 0, index: 0, count: 5, payload: [1, 2, 3, 4])
        }
        #expect(throws: ReassemblyError.missingStart) {
            try r.add(channel: 1, sequence: 1, index: 1, count: 2, payload: [1], requireStarted: true)
        }
        #expect(r.heldBytes == one && r.partialCount == 1)
        #expect(try r.add(channel: 0, sequence: 1, index: 1, count: 2, payload: [9]) == [1, 2, 3, 4, 9])
        #expect(r.heldBytes == 0)
    }
}
