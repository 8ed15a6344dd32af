import NetCore
import Testing

@testable import GameNet

/// The congestion window grows while packets are acknowledged, keeps its size under random
/// loss (no queueing delay) and halves at a bottleneck (loss with a standing queue).
@Suite struct CongestionTests {
    @Test func theWindowGrowsOnALosslessLinkAndNothingIsCountedLost() throws {
        let net = try SimulatedNetwork(seed: 40, conditions: LinkConditions(latency: .milliseconds(10)))
        let client = try net.addClient(port: 7100)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        for i in 0..<1_500 { try client.send(numbered(i, size: 1_000), channel: 0) }
        #expect(net.run(forNs: 20_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 1_500 })
        #expect(net.messages(net.hostEvents, channel: 0) == (0..<1_500).map { numbered($0, size: 1_000) })
        let stats = try #require(client.stats)
        #expect(stats.packetsLost == 0 && stats.messagesResent == 0, "\(stats)")
        #expect(stats.congestionWindow > net.config.initialCongestionWindow)
    }

    @Test func theWindowBacksOffAtABottleneckAndEverythingStillArrivesInOrder() throws {
        // A 200 kB/s bottleneck with a 50 ms queue: a window of 32 full packets (38 kB) overflows it.
        var narrow = LinkConditions(latency: .milliseconds(10), bandwidthBytesPerSecond: 200_000)
        narrow.maxQueueDelayNs = 50_000_000
        let net = try SimulatedNetwork(seed: 41, conditions: narrow)
        let client = try net.addClient(port: 7101)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        for i in 0..<1_500 { try client.send(numbered(i, size: 1_000), channel: 0) }
        #expect(net.run(forNs: 60_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 1_500 })
        #expect(net.messages(net.hostEvents, channel: 0) == (0..<1_500).map { numbered($0, size: 1_000) })
        let stats = try #require(client.stats)
        #expect(net.sim.stats.queueDropped > 0 && stats.packetsLost > 0)
        #expect(stats.congestionWindow < net.config.initialCongestionWindow, "\(stats)")
        #expect(stats.congestionEvents > 0, "\(stats)")
    }

    @Test func randomLossWithoutAQueueKeepsTheWindowAndTheGoodput() throws {
        // 1% loss each way, 50 ms RTT, no bottleneck: a halving per loss event (Reno) holds the
        // window near 12 packets, about 12 s for these 3,000 packets; kept, they take under 4 s.
        let net = try SimulatedNetwork(seed: 42, conditions: LinkConditions(loss: 0.01, latency: .milliseconds(25)))
        let client = try net.addClient(port: 7102)
        #expect(net.run(forNs: 2_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        for i in 0..<3_000 { try client.send(numbered(i, size: 1_000), channel: 0) }
        let start = net.nowNs
        #expect(net.run(forNs: 30_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 3_000 })
        let elapsedNs = net.nowNs - start
        #expect(net.messages(net.hostEvents, channel: 0) == (0..<3_000).map { numbered($0, size: 1_000) })
        let stats = try #require(client.stats)
        #expect(stats.packetsLost > 0 && stats.randomLossEvents > 0, "\(stats)")
        #expect(stats.congestionWindow > net.config.initialCongestionWindow, "\(stats)")
        #expect(elapsedNs < 4_000_000_000, "\(elapsedNs) ns, \(stats)")
    }

    @Test func theQueueingDelayIsTheLeastRecentSampleOverTheLeastEver() {
        var window = CongestionWindow(initial: 32, maxWindow: 512, ackDelayNs: 5_000_000)
        #expect(!window.isQueueing && window.queueingDelayNs == 0)
        // Jitter: samples spread 50...82 ms; the least of each 8 stays near the base.
        for i in 0..<64 { window.addRTTSample(50_000_000 + Int64((i * 37) % 33) * 1_000_000) }
        #expect(window.queueingDelayNs < 5_000_000 && !window.isQueueing, "\(window.queueingDelayNs)")
        // A standing queue: every sample 20 ms over the base (a quarter of 50 ms is 12.5 ms).
        for _ in 0..<16 { window.addRTTSample(70_000_000) }
        #expect(window.queueingDelayNs == 20_000_000 && window.isQueueing)
    }

    @Test func aLossWithAStandingQueueHalvesTheWindowOncePerEvent() {
        var window = CongestionWindow(initial: 32, maxWindow: 512, ackDelayNs: 5_000_000)
        for _ in 0..<16 { window.addRTTSample(50_000_000) }
        // Random: kept, slow start over.
        window.lost(sequence: 10, nextSequence: 40, recentLoss: 0.06)
        #expect(window.window == 32 && window.slowStartThreshold == 32 && window.randomLossEvents == 1)
        for _ in 0..<16 { window.addRTTSample(70_000_000) }
        // Congestion, but a packet sent before the last event: the same event, nothing changes.
        window.lost(sequence: 39, nextSequence: 41, recentLoss: 0.06)
        #expect(window.window == 32 && window.congestionEvents == 0)
        // Congestion after it: halved.
        window.lost(sequence: 40, nextSequence: 60, recentLoss: 0.06)
        #expect(window.window == 16 && window.congestionEvents == 1)
        // No queue but heavy recent loss (a bufferless bottleneck, an outage): halved too.
        for _ in 0..<16 { window.addRTTSample(50_000_000) }
        window.lost(sequence: 60, nextSequence: 70, recentLoss: 0.2)
        #expect(window.window == 8 && window.congestionEvents == 2)
    }

    @Test func theWindowGrowsOnlyWhenUsedAndNotWhileQueueing() {
        var window = CongestionWindow(initial: 4, maxWindow: 6, ackDelayNs: 5_000_000)
        window.acknowledged(inFlight: 1)  // under half in flight: not tested
        #expect(window.window == 4)
        window.addRTTSample(50_000_000)
        for _ in 0..<16 { window.addRTTSample(70_000_000) }
        window.acknowledged(inFlight: 4)  // a standing queue: hold
        #expect(window.window == 4)
        for _ in 0..<16 { window.addRTTSample(50_000_000) }
        window.acknowledged(inFlight: 4)  // slow start: one per ack
        #expect(window.window == 5)
        window.lost(sequence: 1, nextSequence: 2, recentLoss: 0)
        window.acknowledged(inFlight: 5)  // avoidance: 1/window per ack
        #expect(window.window == 5.2)
        for _ in 0..<100 { window.acknowledged(inFlight: 6) }
        #expect(window.window == 6)  // the cap
    }
}
