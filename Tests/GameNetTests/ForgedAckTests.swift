import NetCore
import Testing

@testable import GameNet

/// A peer holding the right session token acks packet sequences the host never sent: before
/// its first packet, or beyond its newest. Each such packet is dropped whole and counted
/// (`implausiblePackets`), with nothing else changed: no message freed, nothing counted lost,
/// no RTT sample, no window change, no event. Dropped, not disconnected: a token holder can
/// end the session with a disconnect anyway, so tearing down gains nothing, and every other
/// implausible packet (an unknown channel, a message beyond the window) is dropped the same way.
@Suite struct ForgedAckTests {
    @Test func acksOfSequencesNeverSentChangeNothing() throws {
        let net = try SimulatedNetwork(seed: 70)
        let peer = try RawPeer(net: net, port: 7500)
        #expect(net.host.connectedIDs == [peer.id])
        for i in 0..<5 { try net.host.send(numbered(i), to: peer.id, channel: 0) }
        net.host.update(nowNs: net.nowNs)
        let toPeer = net.host.takeDatagrams().filter { $0.to == peer.address }.compactMap { try? Packet.decode($0.bytes) }
        let sequences = toPeer.compactMap { if case .data(let header, _) = $0 { peer.hostSequence(of: header) } else { nil } }
        let newest = try #require(sequences.last)
        let before = try #require(net.host.stats(peer.id))
        let heard = peer.received.count
        let forged: [(ack: UInt32, bits: UInt32)] = [
            (peer.hostInitialSequence &- 2, ~0),  // the one before "nothing yet", and the 32 before it
            (peer.hostInitialSequence &- 1_000, ~0),
            (newest &+ 1, ~0),  // beyond the newest
            (newest &+ 0x8000_0000, 0),
        ]
        for (ack, bits) in forged { peer.send([], ack: ack, ackBits: bits) }
        var after = try #require(net.host.stats(peer.id))
        #expect(after.implausiblePackets == before.implausiblePackets + forged.count)
        after.implausiblePackets = before.implausiblePackets
        #expect(after == before, "nothing but the counter changed")
        #expect(net.hostEvents.allSatisfy { if case .disconnected = $0 { false } else { true } })
        #expect(peer.received.count == heard, "a forged ack is not answered")
        // The five messages are still in flight: past the RTO the host sends them again.
        net.nowNs += 300_000_000
        net.host.update(nowNs: net.nowNs)
        let resent = net.host.takeDatagrams().filter { $0.to == peer.address }.compactMap { try? Packet.decode($0.bytes) }
        #expect(net.host.stats(peer.id)?.messagesResent == 5)
        let resentNewest = try #require(
            resent.compactMap { if case .data(let header, _) = $0 { peer.hostSequence(of: header) } else { nil } }.last)
        // An honest ack of the real packets is believed: nothing is left to resend.
        peer.send([], ack: resentNewest, ackBits: ~0)
        let acked = try #require(net.host.stats(peer.id))
        #expect(acked.packetsAcked > before.packetsAcked && acked.implausiblePackets == before.implausiblePackets + forged.count)
        net.nowNs += 300_000_000
        net.host.update(nowNs: net.nowNs)
        _ = net.host.takeDatagrams()
        #expect(net.host.stats(peer.id)?.messagesResent == 5)
    }
}
