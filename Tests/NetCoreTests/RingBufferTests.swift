import Testing

@testable import NetCore

final class Counted {
    nonisolated(unsafe) static var alive = 0  // only this serialized suite touches it
    let value: Int
    init(_ value: Int) {
        self.value = value
        Counted.alive += 1
    }
    deinit { Counted.alive -= 1 }
}

@Suite(.serialized) struct RingBufferTests {
    @Test func behavesLikeAnArrayQueueThroughWrapGrowthAndRemovals() {
        var ring = RingBuffer<Int>(capacity: 2)
        var model: [Int] = []
        var next = 0
        for step in 0..<5_000 {
            switch step % 7 {
            case 0, 1, 2, 3:
                ring.append(next)
                model.append(next)
                next += 1
            case 4, 5:
                let popped = ring.popFirst()
                #expect(popped == (model.isEmpty ? nil : model.removeFirst()))
            default:
                let target = model.isEmpty ? -1 : model[model.count / 2]
                let removed = ring.removeFirst { $0 == target }
                if let index = model.firstIndex(of: target) { model.remove(at: index) }
                #expect(removed == (target == -1 ? nil : target))
            }
            let (count, first) = (ring.count, ring.first)
            #expect(count == model.count)
            #expect(first == model.first)
        }
        let rest = ring.removeAll()
        #expect(rest == model)
        let empty = ring.isEmpty
        #expect(empty)
    }

    @Test func releasesTheElementsItStillHoldsWhenItGoes() {
        Counted.alive = 0
        do {
            var ring = RingBuffer<Counted>(capacity: 4)
            for value in 0..<10 { ring.append(Counted(value)) }
            _ = ring.popFirst()
            _ = ring.removeFirst { $0.value == 5 }
            #expect(Counted.alive == 8)
        }
        #expect(Counted.alive == 0)
    }
}
