import NetCore
import TestSupport
import Testing

@testable import GameNet

/// Keep-alive turns over real UDP on 127.0.0.1, where both sides' timers end in the same
/// instant unless the rule keeps them apart (seen with tcpdump: two pings 100 µs apart every
/// interval, four datagrams instead of two).
@Suite struct UDPKeepAliveTests {
    static let fastKeepAlive = GameNetConfig.keepAlive(50_000_000, timeout: 2_000_000_000)

    @Test func anIdleSessionOverRealSocketsSendsOnePingAndOneAckAnInterval() throws {
        let config = Self.fastKeepAlive
        let (hostSocket, clientSocket, hostAddress) = try loopbackSocketPair()
        // Both drivers run for the same 2 s of real time, then give up (their limit); the
        // counters are read after.
        let (start, end, hostFinal, idleNs) = try runTasklet {
            () async throws -> (ConnectionStats, ConnectionStats, ConnectionStats?, Int64) in
            let serving = Loop.current?.spawn(name: "game-host") { () async throws -> ConnectionStats? in
                let host = try Host(config: config)
                try await untilLimit { try await UDPDriver.run(host, on: hostSocket, limit: .seconds(2)) { _ in true } }
                return host.connectedIDs.first.flatMap { host.stats($0) }
            }
            let client = try Client(server: hostAddress, config: config)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var first: ConnectionStats?
            var connectedNs: Int64 = 0
            try await untilLimit {
                try await UDPDriver.run(client, on: clientSocket, limit: .seconds(2)) { event in
                    if case .connected = event {
                        first = client.stats
                        connectedNs = MonotonicClock.nanoseconds()
                    }
                    return true
                }
            }
            let idleNs = MonotonicClock.nanoseconds() - connectedNs
            return (try #require(first), try #require(client.stats), try await serving?.value ?? nil, idleNs)
        }
        hostSocket.close()
        clientSocket.close()
        let hostStats = try #require(hostFinal)
        let clientPings = end.keepAlivesSent - start.keepAlivesSent
        // One ping an interval between the two sides, each with its ack: 38 in about 2 s (19
        // each). Pinging together, each side pings every interval: 78 with the rule before. The
        // bound is per interval of the time that really passed, so a loaded machine that
        // stretches every interval does not hide the double pings.
        let intervals = Double(idleNs) / Double(config.keepAliveNs)
        let pings = clientPings + hostStats.keepAlivesSent
        #expect(
            Double(pings) <= 1.3 * intervals + 2 && Double(pings) >= 0.4 * intervals,
            "pings: client \(clientPings), host \(hostStats.keepAlivesSent) in \(intervals) intervals")
        let datagrams = end.packetsSent - start.packetsSent + hostStats.packetsSent
        #expect(datagrams <= 2 * pings + 4, "datagrams \(datagrams) for \(pings) pings")
    }
}

/// Runs a driver until its limit: the `.timedOut` it then throws is the expected end.
private func untilLimit(_ run: () async throws -> Void) async throws {
    do { try await run() } catch let error as NetError where error.kind == .timedOut {}
}
