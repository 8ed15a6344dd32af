import NetCore
import TestSupport
import Testing

@testable import GameNet

/// The driver's flush timer over real UDP sockets on 127.0.0.1: a message another tasklet
/// queues between pumps leaves within the timer, not at the machine's next wake-up (set seconds
/// away here: pings every 4 s, a 5 s idle wake).
@Suite struct UDPDriverFlushTests {
    /// Hands the client to a second tasklet. @unchecked Sendable: both tasklets run on the one
    /// loop's thread, one at a time, which is how a game's tasklets share a machine.
    final class OnTheLoop: @unchecked Sendable {
        let client: Client
        init(_ client: Client) { self.client = client }
    }

    static let config = GameNetConfig.keepAlive(4_000_000_000, timeout: 10_000_000_000)

    @Test func aMessageQueuedBetweenPumpsLeavesWithinTheFlushTimer() throws {
        let config = Self.config
        let (hostSocket, clientSocket, hostAddress) = try loopbackSocketPair()
        let count = 10
        let delays = try runTasklet { () async throws -> [Int64] in
            let serving = Loop.current?.spawn(name: "game-host") { () async throws -> [Int64] in
                let host = try Host(config: Self.config)
                var delays: [Int64] = []
                try await UDPDriver.run(host, on: hostSocket, limit: .seconds(30)) { event in
                    if case .message(let id, 0, let bytes) = event {
                        // Each message carries the monotonic time it was queued at.
                        let sentNs = bytes.reduce(Int64(0)) { $0 << 8 | Int64($1) }
                        delays.append(MonotonicClock.nanoseconds() - sentNs)
                        if delays.count == count { host.disconnect(id, nowNs: MonotonicClock.nanoseconds()) }
                    }
                    return delays.count < count
                }
                return delays
            }
            let client = try Client(server: hostAddress, config: config)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            try await UDPDriver.run(client, on: clientSocket, idleWake: .seconds(5), flushInterval: .milliseconds(3), limit: .seconds(30)) {
                event in
                if case .connected = event {
                    // Another tasklet plays the game: it queues a message every 150 ms, between pumps.
                    let game = OnTheLoop(client)
                    Loop.current?.spawn(name: "game-frame") {
                        let client = game.client
                        for _ in 0..<count {
                            try? await sleep(for: .milliseconds(150))
                            let now = MonotonicClock.nanoseconds()
                            try? client.send(withUnsafeBytes(of: now.bigEndian) { Array($0) }, channel: 0)
                        }
                    }
                }
                if case .disconnected = event { return false }
                return true
            }
            return try await serving?.value ?? []
        }
        hostSocket.close()
        clientSocket.close()
        #expect(delays.count == count)
        // Without the timer each would wait for the client's next wake-up, seconds away; with it,
        // 3 ms plus a loopback hop (allowing for a loaded machine).
        #expect(delays.allSatisfy { $0 < 500_000_000 }, "delays in ns: \(delays)")
        let sorted = delays.sorted()
        print(
            "flush-timer delivery delay, 3 ms timer: median \(sorted[sorted.count / 2] / 1_000) us, max \(sorted.last.map { $0 / 1_000 } ?? 0) us"
        )
    }
}
