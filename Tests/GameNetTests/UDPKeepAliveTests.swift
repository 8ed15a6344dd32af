import NetCore
import TestSupport
import Testing

@testable import GameNet

/// Keep-alive turns over real UDP on 127.0.0.1, where both sides' timers end in the same
/// instant unless the rule keeps them apart (seen with tcpdump: two pings 100 µs apart every
/// interval, four datagrams instead of two).
@Suite struct UDPKeepAliveTests {
    static var fastKeepAlive: GameNetConfig {
        var config = GameNetConfig()
        config.keepAliveNs = 50_000_000
        config.timeoutNs = 2_000_000_000
        return config
    }

    @Test func anIdleSessionOverRealSocketsSendsOnePingAndOneAckAnInterval() throws {
        let config = Self.fastKeepAlive
        let hostSocket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
        let clientSocket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
        let hostAddress = try hostSocket.localAddress()
        // Both drivers run for the same 2 s of real time, then give up (their limit); the
        // counters are read after.
        let (start, end, hostFinal) = try runTasklet { () async throws -> (ConnectionStats, ConnectionStats, ConnectionStats?) in
            let serving = Loop.current?.spawn(name: "game-host") { () async throws -> ConnectionStats? in
                let host = try Host(config: config)
                try await untilLimit { try await UDPDriver.run(host, on: hostSocket, limit: .seconds(2)) { _ in true } }
                return host.connectedIDs.first.flatMap { host.stats($0) }
            }
            let client = try Client(server: hostAddress, config: config)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var first: ConnectionStats?
            try await untilLimit {
                try await UDPDriver.run(client, on: clientSocket, limit: .seconds(2)) { event in
                    if case .connected = event { first = client.stats }
                    return true
                }
            }
            return (try #require(first), try #require(client.stats), try await serving?.value ?? nil)
        }
        hostSocket.close()
        clientSocket.close()
        let hostStats = try #require(hostFinal)
        let clientPings = end.keepAlivesSent - start.keepAlivesSent
        // 2 s at a turn of 50 ms plus the slack (6 ms): about 35 pings between the two sides,
        // each with its ack (39 measured). Pinging together, each side pings every interval: 80
        // (78 measured with the rule before).
        let pings = clientPings + hostStats.keepAlivesSent
        #expect((15...60).contains(pings), "pings: client \(clientPings), host \(hostStats.keepAlivesSent)")
        let datagrams = end.packetsSent - start.packetsSent + hostStats.packetsSent
        #expect(datagrams <= 2 * pings + 4, "datagrams \(datagrams) for \(pings) pings")
    }
}

/// Runs a driver until its limit: the `.timedOut` it then throws is the expected end.
private func untilLimit(_ run: () async throws -> Void) async throws {
    do { try await run() } catch let error as NetError where error.kind == .timedOut {}
}
