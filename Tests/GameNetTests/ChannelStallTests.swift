import NetCore
import Testing

@testable import GameNet

/// Head-of-line blocking stays inside one channel: while a lost message of one reliable-ordered
/// channel waits for its resend, the other channels deliver at once, and the lost channel's
/// later message waits behind it (its own order holds).
@Suite struct ChannelStallTests {
    @Test func aLostMessageOnOneChannelDoesNotStallAnother() throws {
        var config = GameNetConfig()
        config.channels = [ChannelConfig(.reliableOrdered), ChannelConfig(.reliableOrdered), ChannelConfig(.unreliable)]
        let net = try SimulatedNetwork(seed: 60, conditions: LinkConditions(latency: .milliseconds(25)), config: config)
        let client = try net.addClient(port: 7600)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let lost: [UInt8] = [0xA0]
        // The first datagram that carries `lost` never arrives.
        var dropped = 0
        net.drop = { bytes in
            guard dropped == 0, case .data(_, let frames)? = try? Packet.decode(bytes),
                frames.contains(.message(channel: 0, sequence: 0, payload: lost))
            else { return false }
            dropped += 1
            return true
        }
        try client.send(lost, channel: 0)
        net.tick()
        #expect(dropped == 1)
        let sentAt = net.nowNs
        try client.send([0xA1], channel: 0)  // behind the lost one in its own channel
        try client.send([0xB0], channel: 1)
        try client.send([0xC0], channel: 2)
        var arrival: [[UInt8]: Int64] = [:]
        let done = net.run(forNs: 3_000_000_000) {
            for m in [0, 1, 2].flatMap({ net.messages(net.hostEvents, channel: $0) }) where arrival[m] == nil {
                arrival[m] = net.nowNs - sentAt
            }
            return arrival.count == 4
        }
        #expect(done)
        let other = try #require(arrival[[0xB0]])
        let unreliable = try #require(arrival[[0xC0]])
        let resent = try #require(arrival[lost])
        // One-way 25 ms (and a tick or two) for the other channels; a resend for the lost one.
        #expect(other <= 30_000_000 && unreliable <= 30_000_000, "channel 1 at \(other) ns, channel 2 at \(unreliable) ns")
        #expect(resent > other + 20_000_000, "the lost message came at \(resent) ns")
        #expect(net.messages(net.hostEvents, channel: 0) == [lost, [0xA1]], "its own channel stays in order")
        #expect(try #require(client.stats).messagesResent >= 1)
    }
}
