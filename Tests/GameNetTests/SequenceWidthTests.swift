import Testing

@testable import GameNet

/// A live session's data packets carry the low 16 bits of their sequence and ack; a sender goes
/// wide (all 32 bits) when the peer could no longer expand them right: after 2^14 of its
/// packets unacknowledged, or an ack 2^14 past one the peer has surely seen. Each test holds a
/// one-way outage for 40,000 packets, beyond the 2^15 that 16 bits resolve either way, and
/// checks that the session carries on when it ends.
@Suite struct SequenceWidthTests {
    /// The settings of both ends: no timeout during the outage.
    static func config(ackEveryPackets: Int = 2) -> GameNetConfig {
        var config = GameNetConfig()
        config.timeoutNs = 600_000_000_000
        config.ackEveryPackets = ackEveryPackets
        return config
    }

    /// Sends `count` unreliable messages from the client, 10 a millisecond (one a packet).
    static func flood(_ net: SimulatedNetwork, _ client: Client, count: Int) throws {
        for i in 0..<count {
            try client.send(numbered(i, size: 1_000), channel: 3)
            if i % 10 == 9 { net.tick() }
        }
        net.tick()  // delivers the last ten
    }

    @Test func theClientGoesWideThroughAnOutageToTheHostAndNarrowAgainAfter() throws {
        let net = try SimulatedNetwork(seed: 120, config: Self.config())
        let client = try net.addClient(port: 7320)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        var narrow = 0
        var wide = 0
        net.drop = { bytes in
            if bytes[0] == Packet.version << 4 | 6 { narrow += 1 }
            if bytes[0] == Packet.version << 4 | 10 { wide += 1 }
            return false
        }
        // The host hears none of 40,000 packets: the client's newest acked one stays where it was.
        net.outage = .clientsToHost
        try Self.flood(net, client, count: 40_000)
        #expect(wide >= 40_000 - 16_384 - 100, "wide once 2^14 are unacknowledged: \(wide) of \(narrow + wide)")
        net.outage = nil
        // The host expands the next packet's sequence near the last it heard, 40,000 back: a
        // narrow one would land 25,536 behind it and be dropped as a duplicate.
        let id = try #require(client.connectionID)
        let before = try #require(net.host.stats(id))
        try client.send([1, 2, 3], channel: 0)
        #expect(net.run(forNs: 1_000_000_000) { net.messages(net.hostEvents, channel: 0) == [[1, 2, 3]] })
        let after = try #require(net.host.stats(id))
        #expect(after.duplicatePackets == before.duplicatePackets && after.implausiblePackets == before.implausiblePackets)
        // Acked again, the client goes back to narrow headers.
        _ = net.run(forNs: 100_000_000)
        let (narrowBefore, wideBefore) = (narrow, wide)
        try client.send([4], channel: 0)
        #expect(net.run(forNs: 1_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 2 })
        #expect(narrow > narrowBefore && wide == wideBefore)
    }

    @Test func theHostsAckGoesWideWhenTheClientMissedItsAcksFor40000Packets() throws {
        // The host acks every 16th packet, so it sends 2,500 packets in the outage: fewer than
        // 2^14, so only the ack's distance can make them wide.
        let net = try SimulatedNetwork(seed: 121, config: Self.config(ackEveryPackets: 16))
        let client = try net.addClient(port: 7321)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let id = try #require(client.connectionID)
        var wideFromHost = 0
        net.outage = .hostToClients
        net.drop = { bytes in
            if bytes[0] == Packet.version << 4 | 10, net.outage == .hostToClients { wideFromHost += 1 }
            return false
        }
        try Self.flood(net, client, count: 40_000)
        #expect(net.messages(net.hostEvents, channel: 3).count == 40_000)
        #expect(wideFromHost > 0, "the host's acks went wide")
        #expect((net.host.stats(id)?.packetsSent ?? 0) < 16_384)
        net.outage = nil
        // The client expands the host's ack near the newest it had: a narrow ack 40,000 ahead
        // would land 25,536 behind it, an ack of nothing the client sent, and be dropped.
        let mine = try #require(client.stats)
        try net.host.send([9, 9], to: id, channel: 0)
        let toClient = { net.messages(net.clientEvents[.loopbackIPv4(port: 7321)] ?? [], channel: 0) }
        #expect(net.run(forNs: 1_000_000_000) { toClient() == [[9, 9]] })
        #expect(client.stats?.implausiblePackets == mine.implausiblePackets)
        // And the client's own packets are acknowledged again.
        try client.send([7], channel: 0)
        #expect(net.run(forNs: 1_000_000_000) { net.messages(net.hostEvents, channel: 0) == [[7]] })
        _ = net.run(forNs: 200_000_000)
        #expect((client.stats?.packetsAcked ?? 0) > mine.packetsAcked)
    }

    @Test func channelSequencesCarryOnPast65536OnEveryChannelKind() throws {
        // 70,000 messages on each channel through 5% loss: each frame carries the low 16 bits
        // of its channel sequence, which the receiving channel expands (used raw, the first
        // message after 65,535 would be a duplicate of message 0 and the channel would stall).
        let net = try SimulatedNetwork(
            seed: 122, conditions: LinkConditions(loss: 0.05, latency: .milliseconds(1)), config: Self.config())
        let client = try net.addClient(port: 7322)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let total = 70_000
        var sent = [0, 0, 0]
        var counts = [0, 0, 0]
        var seen = 0
        let deadline = net.nowNs + 120_000_000_000
        while counts[0] < total || counts[1] < total, net.nowNs < deadline {
            // As many as each channel takes (their queues are bounded).
            for channel in 0..<3 {
                while sent[channel] < total, (try? client.send(numbered(sent[channel], size: 4), channel: channel)) != nil {
                    sent[channel] += 1
                }
            }
            net.tick()
            while seen < net.hostEvents.count {
                if case .message(_, let channel, _) = net.hostEvents[seen], channel < 3 { counts[channel] += 1 }
                seen += 1
            }
        }
        #expect(counts[0] == total && counts[1] == total, "ordered \(counts[0]), unordered \(counts[1]) of \(total)")
        #expect(net.messages(net.hostEvents, channel: 0) == (0..<total).map { numbered($0, size: 4) })
        #expect(Set(net.messages(net.hostEvents, channel: 1)) == Set((0..<total).map { numbered($0, size: 4) }))
        // Sequenced: newest wins, so what arrives only ever goes forward, past 65,536 too.
        let sequenced = net.messages(net.hostEvents, channel: 2).map {
            Int(UInt32(bigEndian: $0.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
        }
        #expect(zip(sequenced, sequenced.dropFirst()).allSatisfy { $0 < $1 })
        #expect(
            (sequenced.last ?? 0) >= total - 100 && sequenced.count > total * 9 / 10, "\(sequenced.count), last \(sequenced.last ?? -1)")
    }
}
