import NetCore
import Testing

@testable import GameNet

/// Host and client handshakes through the simulator: under loss, statelessly, with bounds,
/// restarts and timeouts.
@Suite struct HandshakeTests {
    @Test func twentyClientsConnectThroughThirtyPercentLossBothWays() throws {
        let net = try SimulatedNetwork(seed: 30, conditions: LinkConditions(loss: 0.3, latency: .milliseconds(20)))
        for i in 0..<20 { try net.addClient(port: UInt16(5000 + i)) }
        let allUp = net.run(forNs: 5_000_000_000) { net.hostConnectedCount == 20 && net.clients.allSatisfy { $0.client.isConnected } }
        #expect(allUp, "host saw \(net.hostConnectedCount) of 20")
        #expect(net.sim.stats.lost > 0)
        // Each session carries a reliable message both ways through the same loss.
        for (i, (_, client)) in net.clients.enumerated() { try client.send(numbered(i), channel: 0) }
        for id in net.host.connectedIDs { try net.host.send([7], to: id, channel: 0) }
        let delivered = net.run(forNs: 5_000_000_000) {
            net.messages(net.hostEvents, channel: 0).count == 20
                && net.clients.allSatisfy { net.messages(net.clientEvents[$0.address] ?? [], channel: 0) == [[7]] }
        }
        #expect(delivered)
        #expect(Set(net.messages(net.hostEvents, channel: 0)) == Set((0..<20).map { numbered($0) }))
    }

    @Test func anUnansweredRequestLeavesNoStateAndNoReplyOutgrowsItsRequest() throws {
        let host = try Host(random: SeededRandom(seed: 1))
        let from = SocketAddress.loopbackIPv4(port: 9)
        var sizes: [Int] = []
        for i in 0..<1_000 {
            host.receive(Packet.connectRequest(clientID: UInt64(i)).encoded(), from: from, nowNs: 1)
            sizes += host.takeDatagrams().map(\.bytes.count)
        }
        #expect(host.connectionCount == 0 && host.nextWakeNs == nil)
        #expect(sizes.count == 1_000 && sizes.allSatisfy { $0 <= Packet.paddedHandshakeSize / 40 })
        // An unpadded request is not answered at all.
        host.receive(Array(Packet.connectRequest(clientID: 1).encoded().prefix(10)), from: from, nowNs: 1)
        #expect(host.takeDatagrams().isEmpty && host.malformedDatagrams == 1)
    }

    @Test func aForgedOrStaleCookieCreatesNothing() throws {
        let host = try Host(random: SeededRandom(seed: 2))
        let client = SocketAddress.loopbackIPv4(port: 9)
        host.receive(Packet.connectRequest(clientID: 5).encoded(), from: client, nowNs: 1)
        guard case .challenge(_, let cookie)? = try host.takeDatagrams().first.map({ try Packet.decode($0.bytes) }) else {
            Issue.record("no challenge")
            return
        }
        let guessed = Packet.Cookie(expiresNs: cookie.expiresNs, mac: cookie.mac ^ 1)
        host.receive(Packet.challengeResponse(clientID: 5, cookie: guessed, initialSequence: 0).encoded(), from: client, nowNs: 2)
        // The right cookie from another address, for another client id, or after it expired.
        host.receive(
            Packet.challengeResponse(clientID: 5, cookie: cookie, initialSequence: 0).encoded(), from: .loopbackIPv4(port: 10), nowNs: 2)
        host.receive(Packet.challengeResponse(clientID: 6, cookie: cookie, initialSequence: 0).encoded(), from: client, nowNs: 2)
        host.receive(
            Packet.challengeResponse(clientID: 5, cookie: cookie, initialSequence: 0).encoded(), from: client, nowNs: cookie.expiresNs)
        #expect(host.badCookies == 4 && host.connectionCount == 0 && host.takeDatagrams().isEmpty)
        host.receive(Packet.challengeResponse(clientID: 5, cookie: cookie, initialSequence: 0).encoded(), from: client, nowNs: 3)
        #expect(host.connectionCount == 1)
        let accepts = host.takeDatagrams()
        #expect(accepts.count == 1 && accepts[0].bytes.count == 29)
    }

    @Test func halfOpenHandshakesAreBoundedAndExpire() throws {
        var config = GameNetConfig()
        config.maxPendingHandshakes = 3
        config.handshakeTimeoutNs = 1_000_000_000
        let host = try Host(config: config, random: SeededRandom(seed: 3))
        var rejects = 0
        for i in 0..<5 {
            let from = SocketAddress.loopbackIPv4(port: UInt16(100 + i))
            host.receive(Packet.connectRequest(clientID: UInt64(i)).encoded(), from: from, nowNs: 1)
            guard case .challenge(_, let cookie) = try Packet.decode(host.takeDatagrams()[0].bytes) else { continue }
            host.receive(Packet.challengeResponse(clientID: UInt64(i), cookie: cookie, initialSequence: 0).encoded(), from: from, nowNs: 1)
            if case .reject(_, .tooManyHandshakes) = try Packet.decode(host.takeDatagrams()[0].bytes) { rejects += 1 }
        }
        #expect(host.connectionCount == 3 && rejects == 2 && host.rejectedHandshakes == 2)
        host.update(nowNs: 1 + config.handshakeTimeoutNs)
        #expect(host.connectionCount == 0 && host.pollEvent() == nil, "never-confirmed sessions go without an event")
    }

    @Test func aRestartedClientIsANewSessionThatReplacesTheOld() throws {
        let net = try SimulatedNetwork(seed: 4)
        try net.addClient(port: 6000)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 })
        guard case .connected(let first)? = net.hostEvents.first else { return }
        try net.addClient(port: 6000)  // the same address, a fresh process
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 2 })
        #expect(net.hostEvents.contains(.disconnected(first, .replaced)))
        #expect(net.host.connectedIDs.count == 1 && net.host.connectedIDs[0] != first)
    }

    @Test func aVanishedPeerIsReportedWithinTheTimeoutOnBothSides() throws {
        var config = GameNetConfig()
        config.timeoutNs = 2_000_000_000
        let net = try SimulatedNetwork(seed: 5, config: config)
        let client = try net.addClient(port: 6001)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        // Idle but alive: keep-alives hold the session well past the timeout.
        _ = net.run(forNs: 3 * config.timeoutNs)
        #expect(net.host.connectedIDs.count == 1 && client.isConnected)
        // 12 intervals of 500 ms: the two take turns, so the client pings about every other one.
        #expect((client.stats?.keepAlivesSent ?? 0) >= 5, "pings while idle")
        net.sim.defaultConditions = LinkConditions(loss: 1)  // the cable is cut
        let cutAt = net.nowNs
        #expect(net.run(forNs: config.timeoutNs + 50_000_000) { net.host.connectedIDs.isEmpty && !client.isConnected })
        #expect(net.nowNs - cutAt <= config.timeoutNs + 20_000_000)
        #expect(net.hostEvents.last.map { if case .disconnected(_, .timedOut) = $0 { true } else { false } } == true)
        #expect(
            net.clientEvents[SocketAddress.loopbackIPv4(port: 6001)]?.last.map {
                if case .disconnected(_, .timedOut) = $0 { true } else { false }
            } == true)
    }

    @Test func aThousandPeersConnectToOneHostAndEachIsHeard() throws {
        var config = GameNetConfig()
        config.maxConnections = 1_000
        config.maxPendingHandshakes = 1_000
        let net = try SimulatedNetwork(seed: 6, conditions: LinkConditions(latency: .milliseconds(10)), config: config)
        for i in 0..<1_000 { try net.addClient(port: UInt16(10_000 + i)) }
        #expect(net.run(forNs: 2_000_000_000, stepNs: 5_000_000) { net.hostConnectedCount == 1_000 })
        for (i, (_, client)) in net.clients.enumerated() { try client.send(numbered(i), channel: 0) }
        #expect(net.run(forNs: 2_000_000_000, stepNs: 5_000_000) { net.messages(net.hostEvents, channel: 0).count == 1_000 })
        #expect(Set(net.messages(net.hostEvents, channel: 0)) == Set((0..<1_000).map { numbered($0) }))
        #expect(Set(net.host.connectedIDs).count == 1_000)
    }
}
