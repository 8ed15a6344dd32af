import NetCore
import Testing

@testable import GameNet

/// Packets forged from a connected peer's address without its session token (data, ack, close),
/// or with its token from another address, change nothing: no event, no counter of the session,
/// and the real traffic goes on as if they had not come.
@Suite struct ForgedPacketTests {
    @Test func forgedDataAckAndCloseFromThePeersAddressChangeNothing() throws {
        let net = try SimulatedNetwork(seed: 11)
        let client = try net.addClient(port: 6100)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        guard let id = client.connectionID, let before = net.host.stats(id) else {
            Issue.record("not connected")
            return
        }
        let eventsBefore = net.hostEvents.count
        let from = SocketAddress.loopbackIPv4(port: 6100)
        func forged(token: UInt64, ack: UInt32, _ frames: [Frame]) -> [UInt8] {
            Packet.data(.init(token: token, sequence: 0, ack: ack, ackBits: ~0), frames: frames).encoded()
        }
        var wrongTokens = 0
        for token in [0, 1, UInt64.max, 0x5EED] {
            for sequence: UInt32 in [0, 1, 0xFFFF_FFFF] {
                net.host.receive(
                    forged(token: token, ack: sequence, [.message(channel: 0, sequence: 0, payload: [0xBA, 0xD0])]), from: from,
                    nowNs: net.nowNs)
                net.host.receive(forged(token: token, ack: sequence, []), from: from, nowNs: net.nowNs)
                net.host.receive(forged(token: token, ack: sequence, [.disconnect(reason: 0)]), from: from, nowNs: net.nowNs)
                wrongTokens += 3
            }
        }
        // The session's real token (a peer on the path saw it) from another address.
        let token = try #require(net.host.sessionTokenForTests(id))
        let elsewhere = SocketAddress.loopbackIPv4(port: 6101)
        net.host.receive(forged(token: token, ack: 0, [.disconnect(reason: 0)]), from: elsewhere, nowNs: net.nowNs)
        net.host.receive(
            forged(token: token, ack: 0, [.message(channel: 0, sequence: 0, payload: [0xBA, 0xD0])]), from: elsewhere, nowNs: net.nowNs)
        #expect(net.host.unknownConnectionDatagrams == wrongTokens && net.host.forgedDatagrams == 2)
        #expect(net.host.takeDatagrams().isEmpty, "a forged packet is never answered")
        while let e = net.host.pollEvent() { net.hostEvents.append(e) }
        #expect(net.hostEvents.count == eventsBefore)
        var after = net.host.stats(id)
        after?.congestionWindow = before.congestionWindow
        #expect(after == before)
        // The session still works, and message 0 of channel 0 is the real one.
        try client.send([1, 2, 3], channel: 0)
        #expect(net.run(forNs: 1_000_000_000) { net.messages(net.hostEvents, channel: 0) == [[1, 2, 3]] })
        #expect(net.host.connectedIDs == [id])
    }

    @Test func theCookieMACIsSipHash24() {
        // The reference vector from the SipHash paper: key 00..0f, message 00..0e.
        let key = SipHash24(k0: 0x0706_0504_0302_0100, k1: 0x0F0E_0D0C_0B0A_0908)
        #expect(key.hash((0..<15).map { UInt8($0) }) == 0xA129_CA61_49BE_45E5)
        #expect(key.hash([]) == 0x726F_DB47_DD0E_0E31)
    }
}
