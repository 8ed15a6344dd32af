import NetCore
import Testing

@testable import GameNet

/// The per-connection counters a game shows and tunes by: pings while idle (so RTT and
/// liveness are measured without traffic), RTT and jitter, loss, bytes and packets both ways.
@Suite struct ConnectionStatsTests {
    @Test func anIdleConnectionPingsAndBothSidesMeasureTheRTTWithoutTheInterval() throws {
        let net = try SimulatedNetwork(seed: 90, conditions: LinkConditions(latency: .milliseconds(20)))
        let client = try net.addClient(port: 7300)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        _ = net.run(forNs: 10_000_000_000)  // idle: 20 ping intervals of 500 ms
        let id = try #require(client.connectionID)
        let host = try #require(net.host.stats(id))
        let mine = try #require(client.stats)
        #expect(net.host.connectedIDs == [id] && client.isConnected)
        for stats in [host, mine] {
            // The two take turns (a packet received counts as life): each pings every other
            // interval, and each measures its RTT from its own pings.
            #expect(stats.keepAlivesSent >= 8, "\(stats)")
            // 40 ms round trip plus at most the 5 ms ack delay and a 1 ms tick; an ack that waited
            // for the peer's own keep-alive would add up to 500 ms.
            let rtt = try #require(stats.smoothedRTTNs)
            #expect((40_000_000...46_000_000).contains(rtt), "RTT \(rtt)")
            #expect(stats.jitterNs < 2_000_000 && stats.packetsLost == 0 && stats.lossRate == 0, "\(stats)")
            #expect(stats.packetsAcked >= 8)
        }
        // Two packets per interval between the two (a ping and its ack), as ENet sends, not three
        // or four as when each side pings on its own clock: 1,000 idle peers cost a host a third
        // fewer datagrams. (Plus the handshake's.)
        #expect(mine.packetsSent + host.packetsSent <= 2 * 21 + 4, "client \(mine.packetsSent), host \(host.packetsSent)")
    }

    @Test func aSideThatOnlyReceivesStillPingsAndMeasuresItsRTT() throws {
        let net = try SimulatedNetwork(seed: 92, conditions: LinkConditions(latency: .milliseconds(20)))
        let client = try net.addClient(port: 7302)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let id = try #require(client.connectionID)
        let before = try #require(client.stats)
        // The host streams at 20 Hz for 5 s (10 ping intervals); the client sends nothing of its
        // own, and every packet it receives would otherwise put its ping off.
        for i in 0..<100 {
            try net.host.send(numbered(i, size: 40), to: id, channel: 3)
            _ = net.run(forNs: 50_000_000)
        }
        let after = try #require(client.stats)
        #expect(after.keepAlivesSent - before.keepAlivesSent >= 4, "a ping at least every two intervals: \(after)")
        let rtt = try #require(after.latestRTTNs)
        #expect((40_000_000...46_000_000).contains(rtt), "RTT \(rtt)")
    }

    @Test func bytesAndPacketsInAndOutAgreeBetweenTheTwoEnds() throws {
        let net = try SimulatedNetwork(seed: 91, conditions: LinkConditions(latency: .milliseconds(5)))
        let client = try net.addClient(port: 7301)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let id = try #require(client.connectionID)
        for i in 0..<200 {
            try client.send(numbered(i, size: 100), channel: i % 4)
            try net.host.send(numbered(i, size: 300), to: id, channel: i % 4)
            if i % 10 == 0 { _ = net.run(forNs: 16_000_000) }
        }
        _ = net.run(forNs: 2_000_000_000)
        let host = try #require(net.host.stats(id))
        let mine = try #require(client.stats)
        // A lossless link without duplicates: every packet and byte one side sent, the other got.
        #expect(mine.packetsSent == host.packetsReceived && mine.bytesSent == host.bytesReceived)
        #expect(host.packetsSent == mine.packetsReceived && host.bytesSent == mine.bytesReceived)
        #expect(mine.bytesSent >= 200 * (100 + Frame.messageOverhead) && host.bytesSent >= 200 * (300 + Frame.messageOverhead))
        #expect(mine.bytesSent < host.bytesSent)
        #expect(net.messages(net.hostEvents, channel: 0).count == 50 && mine.packetsLost == 0)
    }

    @Test func lossRateAndJitterFollowTheLink() throws {
        func measure(seed: UInt64, _ link: LinkConditions) throws -> ConnectionStats {
            let net = try SimulatedNetwork(seed: seed, conditions: link)
            let client = try net.addClient(port: 7302)
            #expect(net.run(forNs: 3_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
            // 60 Hz, one reliable message a frame, 20 s.
            for frame in 0..<1_200 {
                try client.send(numbered(frame, size: 32), channel: 0)
                _ = net.run(forNs: 16_666_667)
            }
            #expect(net.run(forNs: 10_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 1_200 })
            return try #require(client.stats)
        }
        let lossy = try measure(seed: 92, LinkConditions(loss: 0.1, latency: .milliseconds(20), jitter: .milliseconds(8)))
        let clean = try measure(seed: 93, LinkConditions(latency: .milliseconds(20)))
        #expect((0.06...0.14).contains(lossy.lossRate), "loss \(lossy.lossRate) \(lossy)")
        #expect(lossy.recentLossRate > 0 && lossy.recentLossRate < 0.4)
        #expect(clean.lossRate == 0 && clean.recentLossRate == 0 && clean.packetsLost == 0)
        // Two one-way delays of ±8 ms each: consecutive samples differ by several ms on average.
        #expect(lossy.jitterNs > 2_000_000 && lossy.jitterNs < 16_000_000, "jitter \(lossy.jitterNs)")
        #expect(clean.jitterNs < lossy.jitterNs / 2 && lossy.rttVarianceNs > clean.rttVarianceNs)
        #expect(lossy.minRTTNs.map { $0 >= 24_000_000 } == true && (lossy.latestRTTNs ?? 0) > 0)
    }
}
