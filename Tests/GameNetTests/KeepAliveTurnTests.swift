import NetCore
import Testing

@testable import GameNet

/// Two idle sides take turns to ping: one ping and its ack per interval between them, however
/// their timers line up (each side pinging on its own clock sends four datagrams an interval:
/// two pings, two acks).
@Suite struct KeepAliveTurnTests {
    /// Idles a connected pair for `intervals` keep-alive intervals after `start`; returns the
    /// datagrams both sides sent meanwhile and the pings among them.
    private func idle(
        _ net: SimulatedNetwork, _ client: Client, intervals: Int, start: (ConnectionID) throws -> Void = { _ in }
    ) throws -> (datagrams: Int, pings: Int) {
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let id = try #require(client.connectionID)
        try start(id)
        _ = net.run(forNs: 1_000_000_000)  // whatever `start` sent is delivered and acked
        let host0 = try #require(net.host.stats(id))
        let client0 = try #require(client.stats)
        _ = net.run(forNs: Int64(intervals) * net.config.keepAliveNs)
        let host1 = try #require(net.host.stats(id))
        let client1 = try #require(client.stats)
        #expect(client.isConnected && net.host.connectedIDs == [id])
        let datagrams = host1.packetsSent - host0.packetsSent + client1.packetsSent - client0.packetsSent
        let pings = host1.keepAlivesSent - host0.keepAlivesSent + client1.keepAlivesSent - client0.keepAlivesSent
        return (datagrams, pings)
    }

    @Test func bothSidesSendingInTheSameFrameStillTakeTurnsOnceIdle() throws {
        // Both send a message in the same tick and then go quiet: their clocks are now the same
        // on both sides, so without a tie-break they ping together every interval from then on.
        let net = try SimulatedNetwork(seed: 140, conditions: LinkConditions(latency: .milliseconds(20)))
        let client = try net.addClient(port: 7340)
        let (datagrams, pings) = try idle(net, client, intervals: 40) { id in
            try net.host.send([1, 2, 3], to: id, channel: 0)
            try client.send([4, 5, 6], channel: 0)
            net.tick()
        }
        // One ping an interval between the two: about 40 in 40 intervals (the rule before: 74,
        // each side every interval). Each ping draws its ack and nothing else goes.
        #expect(pings <= 44 && pings >= 30, "pings \(pings) in 40 intervals")
        #expect(datagrams <= 2 * pings + 2, "datagrams \(datagrams) for \(pings) pings")
    }

    @Test func aTimerEndingAsThePeersPingArrivesDoesNotPingToo() throws {
        // Under the rule before, each side counted the interval from the other's packet, so one's
        // timer ended in the very instant the other's ping arrived; here the timer runs first,
        // as on a real loop, and that rule failed this test (74 pings in 40 intervals: both sides
        // pinged every interval).
        // Now the peer's ping lands a slack before this side's time.
        let net = try SimulatedNetwork(seed: 141, conditions: LinkConditions(latency: .milliseconds(20)))
        net.timersBeforeArrivals = true
        let client = try net.addClient(port: 7341)
        let (datagrams, pings) = try idle(net, client, intervals: 40)
        #expect(pings <= 44 && pings >= 30, "pings \(pings) in 40 intervals")
        #expect(datagrams <= 2 * pings + 2, "datagrams \(datagrams) for \(pings) pings")
    }

    @Test func aSilentPeerIsPingedEveryIntervalAndASlackUntilTheTimeout() throws {
        // One way dead: the host hears nothing, so it pings on its own clock (its slack is the
        // larger, the tie-break) and reports the peer gone at the timeout.
        let net = try SimulatedNetwork(seed: 142, conditions: LinkConditions(latency: .milliseconds(20)))
        let client = try net.addClient(port: 7342)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let id = try #require(client.connectionID)
        let before = try #require(net.host.stats(id)).keepAlivesSent
        net.outage = .clientsToHost
        _ = net.run(forNs: 4_000_000_000)
        let after = try #require(net.host.stats(id)).keepAlivesSent
        // 4 s at one ping per 500 ms plus twice (62.5 ms + the 40 ms RTT): 5 or 6.
        #expect((5...6).contains(after - before), "host pings in 4 s of silence: \(after - before)")
        let timedOut = net.run(forNs: 2_000_000_000) {
            net.hostEvents.contains { if case .disconnected(id, .timedOut) = $0 { true } else { false } }
        }
        #expect(timedOut)
    }

    @Test func aTimeoutUnderTwoAndAHalfIntervalsIsRefused() throws {
        // A live idle peer may be quiet for two intervals and a grid slot: a shorter timeout
        // would drop it, so the configuration says why instead.
        let short = GameNetConfig.keepAlive(500_000_000, timeout: 1_200_000_000)
        #expect(short.problem?.contains("2.5 x keepAlive") == true, "\(String(describing: short.problem))")
        #expect(throws: GameNetError.self) { try Host(config: short) }
        #expect(GameNetConfig.keepAlive(500_000_000, timeout: 1_250_000_000).problem == nil)
    }
}
