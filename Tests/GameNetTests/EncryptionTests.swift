import NetCore
import Testing

@testable import GameNet

/// Packet encryption (ChaCha20-Poly1305 per packet, header as associated data): it hides the
/// payload, a flipped bit anywhere or a replayed packet is dropped before anything changes,
/// and a session still delivers everything through loss.
@Suite struct EncryptionTests {
    static let key = GameNetKey(bytes: (0..<32).map { UInt8($0 &* 7 &+ 3) })!  // 32 bytes: never nil

    static func pskConfig() -> GameNetConfig {
        var config = GameNetConfig()
        config.encryption = .preSharedKey(key)
        return config
    }

    static func connected(seed: UInt64, _ link: LinkConditions = .perfect) throws -> (SimulatedNetwork, Client, ConnectionID) {
        let net = try SimulatedNetwork(seed: seed, conditions: link, config: pskConfig())
        let client = try net.addClient(port: 7700)
        #expect(net.run(forNs: 3_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        return (net, client, try #require(client.connectionID))
    }

    @Test func anEncryptedSessionDeliversThroughLossAndHidesThePayload() throws {
        let (net, client, id) = try Self.connected(seed: 100, LinkConditions(loss: 0.1, latency: .milliseconds(10), duplicate: 0.02))
        let secret = Array("the treasure is under the third palm".utf8)
        var seenInTheClear = 0
        var dataPackets = 0
        net.drop = { bytes in
            if Packet.isData(bytes) { dataPackets += 1 }
            if bytes.count >= secret.count,
                (0...(bytes.count - secret.count)).contains(where: { Array(bytes[$0..<$0 + secret.count]) == secret })
            {
                seenInTheClear += 1
            }
            return false
        }
        for i in 0..<300 { try client.send(secret + numbered(i), channel: 0) }
        for i in 0..<100 { try net.host.send(secret + numbered(i), to: id, channel: 1) }
        #expect(
            net.run(forNs: 20_000_000_000) {
                net.messages(net.hostEvents, channel: 0).count == 300
                    && net.messages(net.clientEvents[.loopbackIPv4(port: 7700)] ?? [], channel: 1).count == 100
            })
        #expect(net.messages(net.hostEvents, channel: 0) == (0..<300).map { secret + numbered($0) })
        #expect(dataPackets > 0 && seenInTheClear == 0)
        // Lost packets were resent; duplicated ones were refused as replays.
        #expect(net.sim.stats.lost > 0 && net.sim.stats.duplicated > 0 && net.host.unauthenticatedDatagrams + client.droppedDatagrams > 0)
        #expect(net.config.maxUnfragmentedPayload == GameNetConfig().maxUnfragmentedPayload - 16)
    }

    /// The client's next data datagram, taken off the wire.
    static func capture(_ net: SimulatedNetwork, _ client: Client, sending message: [UInt8]) throws -> [UInt8] {
        var captured: [UInt8]?
        net.drop = { bytes in
            guard captured == nil, Packet.isData(bytes), bytes.count > Packet.dataHeaderSize + 16 else { return false }
            captured = bytes
            return true
        }
        try client.send(message, channel: 0)
        _ = net.run(forNs: 20_000_000) { captured != nil }
        net.drop = nil
        return try #require(captured)
    }

    @Test func aFlippedBitAnywhereIsDroppedBeforeAnythingChanges() throws {
        let (net, client, id) = try Self.connected(seed: 101)
        let datagram = try Self.capture(net, client, sending: [1, 2, 3, 4])
        let before = try #require(net.host.stats(id))
        let counted = {
            net.host.unauthenticatedDatagrams + net.host.forgedDatagrams + net.host.unknownConnectionDatagrams + net.host.malformedDatagrams
        }
        let droppedBefore = counted()
        for bit in 0..<(datagram.count * 8) {
            var flipped = datagram
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            net.host.receive(flipped, from: .loopbackIPv4(port: 7700), nowNs: net.nowNs)
        }
        #expect(counted() - droppedBefore == datagram.count * 8, "every flipped copy is dropped and counted")
        #expect(net.host.unauthenticatedDatagrams >= (datagram.count - 9) * 8, "all but the token's and the first byte's bits fail the tag")
        #expect(net.host.takeDatagrams().isEmpty && net.host.pollEvent() == nil)
        #expect(net.host.stats(id) == before)
        // The real one still opens: nothing the forgeries did moved the replay window.
        net.host.receive(datagram, from: .loopbackIPv4(port: 7700), nowNs: net.nowNs)
        while let e = net.host.pollEvent() { net.hostEvents.append(e) }
        #expect(net.messages(net.hostEvents, channel: 0) == [[1, 2, 3, 4]])
    }

    @Test func aReplayedPacketIsDroppedByTheReplayWindow() throws {
        let (net, client, id) = try Self.connected(seed: 102)
        let first = try Self.capture(net, client, sending: [9])
        net.host.receive(first, from: .loopbackIPv4(port: 7700), nowNs: net.nowNs)
        let once = try #require(net.host.stats(id))
        for _ in 0..<3 { net.host.receive(first, from: .loopbackIPv4(port: 7700), nowNs: net.nowNs) }
        #expect(net.host.unauthenticatedDatagrams == 3 && net.host.stats(id) == once, "refused before the duplicate check")
        // Far behind the window (300 packets later) it is refused all the same.
        for i in 0..<300 {
            try client.send(numbered(i), channel: 3)
            net.tick()
        }
        _ = net.run(forNs: 100_000_000)
        let later = try #require(net.host.stats(id))
        net.host.receive(first, from: .loopbackIPv4(port: 7700), nowNs: net.nowNs)
        #expect(net.host.unauthenticatedDatagrams == 4 && net.host.stats(id) == later)
        while let e = net.host.pollEvent() { net.hostEvents.append(e) }
        #expect(net.messages(net.hostEvents, channel: 0) == [[9]])
    }

    @Test func theNonceCounterCarriesAcrossTheSequenceWrap() throws {
        // Both packet sequences wrap past 2^32 during the run: the receiver must expand each
        // 32-bit sequence to the sender's 64-bit counter, or nothing after the wrap opens.
        let net = try SimulatedNetwork(
            seed: 104, conditions: LinkConditions(loss: 0.05, latency: .milliseconds(10)), config: Self.pskConfig())
        net.host.initialSequenceForTests = 0xFFFF_FFA0
        let client = try net.addClient(port: 7703, initialSequence: 0xFFFF_FF90)
        #expect(net.run(forNs: 3_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let id = try #require(client.connectionID)
        for i in 0..<600 {
            try client.send(numbered(i, size: 200), channel: 0)
            try net.host.send(numbered(i, size: 200), to: id, channel: 0)
            if i % 20 == 0 { _ = net.run(forNs: 20_000_000) }
        }
        let toClient = { net.messages(net.clientEvents[.loopbackIPv4(port: 7703)] ?? [], channel: 0) }
        #expect(net.run(forNs: 20_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 600 && toClient().count == 600 })
        #expect(net.messages(net.hostEvents, channel: 0) == (0..<600).map { numbered($0, size: 200) })
        #expect(toClient() == (0..<600).map { numbered($0, size: 200) })
        #expect((client.stats?.packetsSent ?? 0) > 0x70 && (net.host.stats(id)?.packetsSent ?? 0) > 0x60, "both wrapped")
    }

    @Test func mismatchedEncryptionNeverConnects() throws {
        let net = try SimulatedNetwork(seed: 103, config: Self.pskConfig(), clientConfig: GameNetConfig())
        let plain = try net.addClient(port: 7701)
        var other = Self.pskConfig()
        other.encryption = .preSharedKey(GameNetKey(bytes: Array(repeating: 1, count: 32))!)  // 32 bytes: never nil
        net.clientConfig = other
        let wrongKey = try net.addClient(port: 7702)
        _ = net.run(forNs: 6_000_000_000)
        #expect(!plain.isConnected && !wrongKey.isConnected && net.hostConnectedCount == 0)
        #expect(net.host.connectionCount == 0, "the wrong key's pending sessions expired")
    }
}
