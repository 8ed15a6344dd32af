import Testing

@testable import GameNet

/// The simulator applies each condition it is given, on its virtual clock, and replays exactly
/// from its seed.
@Suite struct NetworkSimulatorTests {
    /// Sends `count` numbered datagrams from 1 to 2, one per millisecond, and delivers them all.
    static func run(_ conditions: LinkConditions, seed: UInt64 = 7, count: Int = 10_000) -> (
        [NetworkSimulator<Int>.Delivery], NetworkSimulator<Int>.Stats
    ) {
        var sim = NetworkSimulator<Int>(seed: seed, conditions: conditions)
        for i in 0..<count {
            sim.send(withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }, from: 1, to: 2, nowNs: Int64(i) * 1_000_000)
        }
        let all = sim.deliver(upTo: .max)
        #expect(sim.inFlight == 0)
        return (all, sim.stats)
    }

    static func number(_ d: NetworkSimulator<Int>.Delivery) -> Int {
        d.bytes.reduce(0) { $0 << 8 | Int($1) }
    }

    @Test func lossDropsAboutItsShareAndTheSameSeedDropsTheSameOnes() {
        let (a, statsA) = Self.run(LinkConditions(loss: 0.3))
        let (b, _) = Self.run(LinkConditions(loss: 0.3))
        let (c, _) = Self.run(LinkConditions(loss: 0.3), seed: 8)
        #expect((2_700...3_300).contains(statsA.lost), "lost \(statsA.lost) of 10000")
        #expect(a.count == 10_000 - statsA.lost)
        #expect(a.map(Self.number) == b.map(Self.number))
        #expect(a.map(Self.number) != c.map(Self.number))
    }

    @Test func latencyDelaysEveryDatagramAndJitterReordersSome() {
        let (steady, _) = Self.run(LinkConditions(latency: .milliseconds(50)), count: 100)
        #expect(steady.enumerated().allSatisfy { i, d in d.atNs == Int64(i) * 1_000_000 + 50_000_000 })
        let (jittered, _) = Self.run(LinkConditions(latency: .milliseconds(50), jitter: .milliseconds(10)), count: 1_000)
        let numbers = jittered.map(Self.number)
        #expect(numbers.sorted() == Array(0..<1_000))
        #expect(numbers != Array(0..<1_000), "a ±10 ms jitter at 1 ms spacing must reorder")
        for d in jittered {
            let sent = Int64(Self.number(d)) * 1_000_000
            #expect((sent + 40_000_000...sent + 60_000_000).contains(d.atNs))
        }
    }

    @Test func duplicationAndReorderingAreCountedAndVisible() {
        let (dup, dupStats) = Self.run(LinkConditions(duplicate: 0.1), count: 2_000)
        #expect((150...250).contains(dupStats.duplicated))
        #expect(dup.count == 2_000 + dupStats.duplicated)
        let (late, lateStats) = Self.run(LinkConditions(reorder: 0.1), count: 2_000)
        #expect((150...250).contains(lateStats.reordered))
        let numbers = late.map(Self.number)
        #expect(numbers.sorted() == Array(0..<2_000) && numbers != Array(0..<2_000))
    }

    @Test func bandwidthQueuesDatagramsAndTailDropsPastTheQueueLimit() {
        // 1,000-byte datagrams at 100 kB/s: 10 ms each on the wire, sent every 1 ms.
        var sim = NetworkSimulator<Int>(seed: 1, conditions: LinkConditions(bandwidthBytesPerSecond: 100_000))
        for i in 0..<100 { sim.send(Array(repeating: 0, count: 1_000), from: 1, to: 2, nowNs: Int64(i) * 1_000_000) }
        let arrived = sim.deliver(upTo: .max)
        // A datagram may wait at most 200 ms, and the last is sent at 99 ms: the link carries
        // datagrams until about 300 ms, one every 10 ms, so 30 get through and 70 are tail-dropped.
        #expect(sim.stats.queueDropped == 70)
        #expect(arrived.count == 30)
        for (i, d) in arrived.enumerated() { #expect(d.atNs == Int64(i + 1) * 10_000_000) }
    }

    @Test func conditionsApplyPerDirection() {
        var sim = NetworkSimulator<Int>(seed: 3)
        sim.setConditions(LinkConditions(loss: 1), from: 1, to: 2)
        for i in 0..<50 {
            sim.send([1], from: 1, to: 2, nowNs: Int64(i))
            sim.send([2], from: 2, to: 1, nowNs: Int64(i))
        }
        let arrived = sim.deliver(upTo: 100)
        #expect(arrived.count == 50 && arrived.allSatisfy { $0.from == 2 && $0.to == 1 })
    }
}
