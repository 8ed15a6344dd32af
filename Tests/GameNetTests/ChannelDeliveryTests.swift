import NetCore
import Testing

@testable import GameNet

/// Each channel kind keeps its promise through loss, jitter and duplication, with packet
/// sequence numbers that wrap past 2^32 during the run.
@Suite struct ChannelDeliveryTests {
    static let lossy = LinkConditions(loss: 0.1, latency: .milliseconds(20), jitter: .milliseconds(5), duplicate: 0.02)

    static func connected(seed: UInt64, nearWrap: Bool) throws -> (SimulatedNetwork, Client) {
        let net = try SimulatedNetwork(seed: seed, conditions: lossy)
        if nearWrap { net.host.initialSequenceForTests = 0xFFFF_FF00 }
        let client = try net.addClient(port: 7000, initialSequence: nearWrap ? 0xFFFF_FF80 : nil)
        #expect(net.run(forNs: 3_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        return (net, client)
    }

    @Test func reliableOrderedDeliversEveryMessageOnceInOrderAcrossTheWrap() throws {
        let (net, client) = try Self.connected(seed: 21, nearWrap: true)
        let count = 2_000
        for i in 0..<count { try client.send(numbered(i, size: 4 + i % 300), channel: 0) }
        let hostID = try #require(net.host.connectedIDs.first)
        for i in 0..<500 { try net.host.send(numbered(i), to: hostID, channel: 0) }
        let done = net.run(forNs: 30_000_000_000) {
            net.messages(net.hostEvents, channel: 0).count == count
                && net.messages(net.clientEvents[.loopbackIPv4(port: 7000)] ?? [], channel: 0).count == 500
        }
        #expect(done)
        #expect(net.messages(net.hostEvents, channel: 0) == (0..<count).map { numbered($0, size: 4 + $0 % 300) })
        #expect(net.messages(net.clientEvents[.loopbackIPv4(port: 7000)] ?? [], channel: 0) == (0..<500).map { numbered($0) })
        let stats = try #require(client.stats)
        #expect(stats.packetsSent > 0x100, "the client's sequence wrapped past 2^32")
        #expect(stats.packetsLost > 0 && stats.messagesResent > 0 && stats.fastRetransmits > 0)
        // 20 ms each way, each ±5 ms of jitter: a round trip from 30 ms, 40 ms on average.
        #expect(
            stats.smoothedRTTNs.map { (30_000_000...80_000_000).contains($0) } == true, "RTT \(String(describing: stats.smoothedRTTNs))")
        #expect(net.hostEvents.allSatisfy { if case .disconnected = $0 { false } else { true } })
    }

    @Test func reliableUnorderedDeliversEachOnceAndUnreliableSequencedNeverGoesBack() throws {
        let (net, client) = try Self.connected(seed: 22, nearWrap: false)
        for i in 0..<500 { try client.send(numbered(i), channel: 1) }
        // One state update per 10 ms frame on the sequenced channel, 300 frames.
        for frame in 0..<300 {
            try client.send(numbered(frame), channel: 2)
            _ = net.run(forNs: 10_000_000)
        }
        #expect(net.run(forNs: 10_000_000_000) { net.messages(net.hostEvents, channel: 1).count >= 500 })
        _ = net.run(forNs: 500_000_000)
        let unordered = net.messages(net.hostEvents, channel: 1)
        #expect(unordered.count == 500 && Set(unordered) == Set((0..<500).map { numbered($0) }))
        let states = net.messages(net.hostEvents, channel: 2).map { Int($0[0]) << 24 | Int($0[1]) << 16 | Int($0[2]) << 8 | Int($0[3]) }
        #expect(zip(states, states.dropFirst()).allSatisfy { $0 < $1 }, "the newest wins: never an older state after a newer one")
        #expect(states.count < 300 && states.count > 230, "lost ones stay lost (got \(states.count) of 300)")
    }

    @Test func callerErrorsAreTypedAndQueueNothing() throws {
        let (net, client) = try Self.connected(seed: 23, nearWrap: false)
        let limit = net.config.maxUnfragmentedPayload
        #expect(throws: GameNetError.messageTooLarge(size: limit + 1, limit: limit)) {
            try client.send(Array(repeating: 0, count: limit + 1), channel: 3)  // unreliable: never fragmented
        }
        #expect(throws: GameNetError.noSuchChannel(4)) { try client.send([1], channel: 4) }
        #expect(throws: GameNetError.notConnected) { try net.host.send([1], to: ConnectionID(rawValue: 1), channel: 0) }
        var bad = GameNetConfig()
        bad.mtu = 100
        #expect(throws: GameNetError.self) { try Host(config: bad) }
    }
}
