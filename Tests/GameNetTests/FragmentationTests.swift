import NetCore
import Testing

@testable import GameNet

/// Messages over the MTU on reliable channels go as fragments through the acks, resends and
/// congestion window and arrive whole; over `maxMessageSize` they are refused before anything is
/// sent; a peer's fragments cannot make the host hold more than its budgets.
@Suite struct FragmentationTests {
    /// A message whose bytes depend on their position and the seed, so a swapped, cut or
    /// duplicated fragment shows.
    static func pattern(_ size: Int, seed: UInt64) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        return (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Budgets small enough that a flood reaches them in a few dozen fragments.
    static var smallBudgets: GameNetConfig {
        var config = GameNetConfig()
        config.maxMessageSize = 64 << 10
        config.maxReassemblyBytesPerPeer = 100_000
        config.maxReassemblyBytesPerHost = 250_000
        return config
    }

    static func connected(_ net: SimulatedNetwork, port: UInt16) throws -> Client {
        let client = try net.addClient(port: port)
        #expect(net.run(forNs: 3_000_000_000) { client.isConnected && net.host.connectedIDs.count >= 1 })
        return client
    }

    @Test func aMebibyteThroughTenPercentLossArrivesByteExact() throws {
        let net = try SimulatedNetwork(
            seed: 70, conditions: LinkConditions(loss: 0.1, latency: .milliseconds(10), jitter: .milliseconds(2)))
        let client = try Self.connected(net, port: 7300)
        let big = Self.pattern(1 << 20, seed: 1)
        try client.send(big, channel: 0)
        try client.send([7, 7, 7], channel: 0)  // after the big one, in order
        #expect(net.run(forNs: 60_000_000_000) { net.messages(net.hostEvents, channel: 0).count == 2 })
        let got = net.messages(net.hostEvents, channel: 0)
        #expect(got.count == 2 && got.first == big && got.last == [7, 7, 7])
        let stats = try #require(client.stats)
        #expect(stats.messagesResent > 0 && stats.packetsLost > 0, "the loss was real: \(stats)")
        #expect(net.host.reassemblyBytesInUse == 0, "a completed message frees its fragments")
    }

    @Test func aMessageOverTheMaximumIsRefusedBeforeAnythingIsSent() throws {
        let net = try SimulatedNetwork(seed: 71)
        let client = try Self.connected(net, port: 7301)
        _ = net.run(forNs: 50_000_000)
        let max = net.config.maxMessageSize
        let sentBefore = try #require(client.stats).packetsSent
        #expect(throws: GameNetError.messageTooLarge(size: max + 1, limit: max)) {
            try client.send(Array(repeating: 1, count: max + 1), channel: 0)
        }
        let whole = net.config.maxUnfragmentedPayload
        #expect(throws: GameNetError.messageTooLarge(size: whole + 1, limit: whole)) {
            try client.send(Array(repeating: 1, count: whole + 1), channel: 3)  // unreliable: never fragmented
        }
        client.update(nowNs: net.nowNs)
        #expect(client.takeDatagrams().isEmpty && client.stats?.packetsSent == sentBefore, "nothing was queued")
        // Exactly the maximum goes, and is the first thing the host gets on the channel.
        let largest = Self.pattern(max, seed: 2)
        try client.send(largest, channel: 0)
        #expect(net.run(forNs: 30_000_000_000) { !net.messages(net.hostEvents, channel: 0).isEmpty })
        #expect(net.messages(net.hostEvents, channel: 0) == [largest])
    }

    @Test func fragmentsOfTwoMessagesInterleavedOnTwoChannelsReassemble() throws {
        let net = try SimulatedNetwork(seed: 72)
        let peer = try RawPeer(net: net, port: 7302)
        let size = net.config.fragmentPayloadSize
        let a = Self.pattern(3 * size + 100, seed: 3)  // 4 fragments, channel 0 (ordered)
        let b = Self.pattern(2 * size + 1, seed: 4)  // 3 fragments, channel 1 (unordered)
        func fragments(_ m: [UInt8], channel: UInt8) -> [Frame] {
            let count = (m.count + size - 1) / size
            return (0..<count).map { i in
                .fragment(
                    channel: channel, sequence: UInt32(i), index: UInt16(i), count: UInt16(count),
                    payload: Array(m[i * size..<min(m.count, (i + 1) * size)]))
            }
        }
        let fa = fragments(a, channel: 0)
        let fb = fragments(b, channel: 1)
        // Out of order within each message, alternating between them.
        for frame in [fa[3], fb[2], fa[1], fb[0], fa[2], fa[0], fb[1]] { peer.send([frame]) }
        #expect(net.messages(net.hostEvents, channel: 0) == [a])
        #expect(net.messages(net.hostEvents, channel: 1) == [b])
        #expect(net.host.reassemblyBytesInUse == 0 && net.host.connectedIDs == [peer.id])
    }

    @Test func twoLargeMessagesOnTwoChannelsThroughLossAndReordering() throws {
        let conditions = LinkConditions(loss: 0.05, latency: .milliseconds(10), jitter: .milliseconds(3), duplicate: 0.02, reorder: 0.1)
        let net = try SimulatedNetwork(seed: 73, conditions: conditions)
        let client = try Self.connected(net, port: 7303)
        let a = Self.pattern(400_000, seed: 5)
        let b = Self.pattern(300_000, seed: 6)
        try client.send(a, channel: 0)
        try client.send(b, channel: 1)
        #expect(
            net.run(forNs: 60_000_000_000) {
                net.messages(net.hostEvents, channel: 0).count + net.messages(net.hostEvents, channel: 1).count == 2
            })
        #expect(net.messages(net.hostEvents, channel: 0) == [a])
        #expect(net.messages(net.hostEvents, channel: 1) == [b])
    }

    @Test func malformedFragmentsAreDroppedWholeAndChangeNothing() throws {
        let net = try SimulatedNetwork(seed: 74, config: Self.smallBudgets)
        let peer = try RawPeer(net: net, port: 7304)
        let config = net.config
        let size = config.fragmentPayloadSize
        let full = [UInt8](repeating: 9, count: size)
        let bad: [Frame] = [
            .fragment(channel: 1, sequence: 0, index: 0, count: UInt16(config.maxFragments + 1), payload: full),  // too many
            .fragment(channel: 1, sequence: 0, index: 0, count: 3, payload: Array(full.dropLast())),  // short middle
            .fragment(channel: 1, sequence: 1, index: 1, count: 2, payload: full + [1]),  // last too long: over the MTU
            .fragment(channel: 3, sequence: 0, index: 0, count: 2, payload: full),  // unreliable channel
            .fragment(channel: 1, sequence: 300, index: 0, count: 2, payload: full),  // beyond the window
        ]
        let before = try #require(net.host.stats(peer.id)).implausiblePackets
        let malformedBefore = net.host.malformedDatagrams
        for frame in bad { peer.send([frame]) }
        let stats = try #require(net.host.stats(peer.id))
        // The over-long one does not fit a datagram, so the decoder refuses it; the rest are implausible.
        #expect(stats.implausiblePackets - before + net.host.malformedDatagrams - malformedBefore == bad.count)
        #expect(stats.reassemblyBytes == 0 && net.host.reassemblyBytesInUse == 0)
        #expect(net.host.connectedIDs == [peer.id] && net.messages(net.hostEvents, channel: 1).isEmpty)
    }

    @Test func inconsistentCountsDisconnectTheSenderAndFreeItsFragments() throws {
        let net = try SimulatedNetwork(seed: 75, config: Self.smallBudgets)
        let peer = try RawPeer(net: net, port: 7305)
        let full = [UInt8](repeating: 9, count: net.config.fragmentPayloadSize)
        peer.send([.fragment(channel: 1, sequence: 0, index: 0, count: 3, payload: full)])
        #expect(net.host.reassemblyBytesInUse > 0)
        peer.send([.fragment(channel: 1, sequence: 1, index: 1, count: 4, payload: full)])  // says 4 where index 0 said 3
        #expect(net.hostEvents.contains(.disconnected(peer.id, .protocolViolation(.countMismatch(expected: 3, got: 4)))))
        #expect(net.host.reassemblyBytesInUse == 0 && net.host.connectionCount == 0)
        #expect(peer.received.contains { if case .data(_, let frames) = $0 { frames.contains(.disconnect(reason: 0)) } else { false } })

        // On an ordered channel a fragment cannot start a message in the middle.
        let second = try RawPeer(net: net, port: 7306)
        second.send([.fragment(channel: 0, sequence: 0, index: 1, count: 3, payload: full)])
        #expect(net.hostEvents.contains(.disconnected(second.id, .protocolViolation(.missingStart))))
    }

    @Test func aFloodOfPartialMessagesStopsAtThePeersBudgetAndOtherPeersGoOn() throws {
        let net = try SimulatedNetwork(seed: 76, conditions: LinkConditions(latency: .milliseconds(5)), config: Self.smallBudgets)
        let honest = try Self.connected(net, port: 7307)
        let message = Self.pattern(net.config.maxMessageSize, seed: 7)
        try honest.send(message, channel: 1)
        let hostile = try RawPeer(net: net, port: 7308)
        let full = [UInt8](repeating: 9, count: net.config.fragmentPayloadSize)
        var highWater = 0
        var sent = 0
        // Index 0 of a new two-fragment message every other sequence: each is a partial held forever.
        for start in stride(from: 0, to: 250, by: 2) where net.host.connectedIDs.contains(hostile.id) {
            hostile.send([.fragment(channel: 1, sequence: UInt32(start), index: 0, count: 2, payload: full)])
            sent += 1
            highWater = max(highWater, net.host.stats(hostile.id)?.reassemblyBytes ?? 0)
            #expect(net.host.reassemblyBytesInUse <= net.config.maxReassemblyBytesPerHost)
            net.tick()  // the honest transfer goes on meanwhile
        }
        let limit = net.config.maxReassemblyBytesPerPeer
        #expect(net.hostEvents.contains(.disconnected(hostile.id, .protocolViolation(.peerBudgetExceeded(limit: limit)))))
        #expect(highWater <= limit && highWater > limit - 2_000, "held \(highWater) of \(limit) after \(sent) fragments")
        #expect(net.run(forNs: 30_000_000_000) { !net.messages(net.hostEvents, channel: 1).isEmpty })
        #expect(net.messages(net.hostEvents, channel: 1) == [message])
        #expect(net.host.reassemblyBytesInUse == 0)
        #expect(net.host.connectedIDs == [try #require(honest.connectionID)])
    }

    @Test func manyPeersNearTheirBudgetsStopAtTheHostsBudget() throws {
        let net = try SimulatedNetwork(seed: 77, config: Self.smallBudgets)
        let full = [UInt8](repeating: 9, count: net.config.fragmentPayloadSize)
        let peers = try (0..<4).map { try RawPeer(net: net, port: 7310 + UInt16($0)) }
        // Each holds 60 partials (78,120 bytes charged, under its 100 kB): three make 234,360 and
        // the fourth's thirteenth partial passes the host's 250 kB.
        for peer in peers {
            for start in stride(from: 0, to: 120, by: 2) {
                peer.send([.fragment(channel: 1, sequence: UInt32(start), index: 0, count: 2, payload: full)])
                #expect(net.host.reassemblyBytesInUse <= net.config.maxReassemblyBytesPerHost)
            }
        }
        let cut = peers.filter { net.hostEvents.contains(.disconnected($0.id, .protocolViolation(.hostBudgetExceeded))) }
        #expect(cut.map(\.id) == [peers[3].id], "the peer whose fragment met the full pool")
        // Its share went back to the pool; the others keep theirs.
        #expect(net.host.reassemblyBytesInUse == 3 * (try #require(net.host.stats(peers[0].id))).reassemblyBytes)
    }
}
