import NetCore
import Testing

@testable import GameNet

/// The bandwidth caps (token buckets on wire bytes in the machine) hold per virtual second, the
/// congestion window still applies under them, and the host's cap is shared, not hogged.
@Suite struct BandwidthCapTests {
    /// Bytes received per virtual second, sampled from `bytes()` over `seconds` seconds.
    static func perSecond(_ net: SimulatedNetwork, seconds: Int, _ bytes: () -> [Int]) -> [[Int]] {
        var last = bytes()
        var out: [[Int]] = []
        for _ in 0..<seconds {
            _ = net.run(forNs: 1_000_000_000)
            let now = bytes()
            out.append(zip(now, last).map { $0 - $1 })
            last = now
        }
        return out
    }

    @Test func aConnectionsCapHoldsEverySecondAndIsUsed() throws {
        var config = GameNetConfig()
        config.maxBytesPerSecondPerConnection = 50_000
        let net = try SimulatedNetwork(seed: 80, conditions: LinkConditions(latency: .milliseconds(10)), config: config)
        let client = try net.addClient(port: 7400)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let id = try #require(client.connectionID)
        for i in 0..<500 { try client.send(numbered(i, size: 1_000), channel: 0) }
        let seconds = Self.perSecond(net, seconds: 6) { [net.host.stats(id)?.bytesReceived ?? 0] }.map { $0[0] }
        // Rate plus the burst (2 MTUs here) plus the one packet the balance may dip by.
        let bound = 50_000 + 2 * config.mtu + config.mtu
        #expect(seconds.allSatisfy { $0 <= bound }, "bytes per second \(seconds)")
        #expect(seconds.dropFirst().allSatisfy { $0 >= 45_000 }, "the cap is used, not undershot: \(seconds)")
        // Without the cap the same backlog leaves in well under a second.
        #expect(net.run(forNs: 10_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 500 })
        #expect(net.messages(net.hostEvents, channel: 0) == (0..<500).map { numbered($0, size: 1_000) })
    }

    @Test func theCongestionWindowStillAppliesUnderACap() throws {
        // A cap above a 100 kB/s bottleneck: the window, not the cap, must back off.
        var config = GameNetConfig()
        config.maxBytesPerSecondPerConnection = 400_000
        var narrow = LinkConditions(latency: .milliseconds(10), bandwidthBytesPerSecond: 100_000)
        narrow.maxQueueDelayNs = 50_000_000
        let net = try SimulatedNetwork(seed: 81, conditions: narrow, config: config)
        let client = try net.addClient(port: 7401)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        for i in 0..<600 { try client.send(numbered(i, size: 1_000), channel: 0) }
        #expect(net.run(forNs: 30_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 600 })
        let stats = try #require(client.stats)
        #expect(stats.packetsLost > 0 && stats.congestionWindow < config.initialCongestionWindow, "\(stats)")
    }

    @Test func theHostsCapIsSharedAndDoesNotStarveASecondConnection() throws {
        var config = GameNetConfig()
        config.maxBytesPerSecondPerHost = 100_000
        let net = try SimulatedNetwork(seed: 82, conditions: LinkConditions(latency: .milliseconds(10)), config: config)
        let first = try net.addClient(port: 7402)
        let second = try net.addClient(port: 7403)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 2 && first.isConnected && second.isConnected })
        let a = try #require(first.connectionID)
        let b = try #require(second.connectionID)
        // The first connection's backlog is 12 s of the whole cap; the second's comes a second later.
        for i in 0..<1_200 { try net.host.send(numbered(i, size: 1_000), to: a, channel: 0) }
        _ = net.run(forNs: 1_000_000_000)
        for i in 0..<100 { try net.host.send(numbered(i, size: 1_000), to: b, channel: 0) }
        let seconds = Self.perSecond(net, seconds: 2) { [first.stats?.bytesReceived ?? 0, second.stats?.bytesReceived ?? 0] }
        let bound = 100_000 + 3 * config.mtu + 40 * 50  // plus the acks and pings, charged but never held
        for second in seconds {
            #expect(second[0] + second[1] <= bound, "host total per second \(seconds)")
            // An even share is 50 kB/s each; the second must get close to it, not the leftovers.
            #expect(second[1] >= 40_000 && second[0] >= 40_000, "per connection per second \(seconds)")
        }
        let secondGot = { net.messages(net.clientEvents[.loopbackIPv4(port: 7403)] ?? [], channel: 0) }
        #expect(net.run(forNs: 1_000_000_000) { secondGot().count == 100 })
        #expect(secondGot() == (0..<100).map { numbered($0, size: 1_000) })
        #expect(net.messages(net.clientEvents[.loopbackIPv4(port: 7402)] ?? [], channel: 0).count < 600, "the first is still capped")
    }

    @Test func negativeCapsAreInvalid() {
        var bad = GameNetConfig()
        bad.maxBytesPerSecondPerHost = -1
        #expect(throws: GameNetError.self) { try Host(config: bad) }
    }
}
