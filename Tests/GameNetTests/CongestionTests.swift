import NetCore
import Testing

@testable import GameNet

/// The AIMD window grows while packets are acknowledged, and a perfect link shows no loss.
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
    }
}
