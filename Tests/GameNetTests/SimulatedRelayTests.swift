import NetCore
import TestSupport
import Testing

@testable import GameNet

/// The relay between real UDP sockets on 127.0.0.1: it holds datagrams for the link's latency,
/// drops what the link loses, and keeps each client's traffic on an upstream socket of its own.
@Suite struct SimulatedRelayTests {
    /// Starts an echo server and a relay in front of it on the current loop; runs `body` with
    /// the relay and its front address, then stops both.
    private func withRelay(
        upstream: LinkConditions, downstream: LinkConditions,
        _ body: @escaping @Sendable (SimulatedRelay, SocketAddress) async throws -> Void
    ) throws {
        try runTasklet {
            let echo = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
            let front = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
            let relay = SimulatedRelay(front: front, server: try echo.localAddress(), upstream: upstream, downstream: downstream, seed: 5)
            let loop = Loop.current!  // runTasklet runs this on a loop
            let echoing = loop.spawn(name: "echo") {
                while true {
                    let (bytes, from): ([UInt8], SocketAddress)
                    do { (bytes, from) = try await echo.receive(maxBytes: 2_048) } catch let e as NetError where e.kind == .closed {
                        return
                    }
                    try await echo.send(bytes, to: from)
                }
            }
            let relaying = loop.spawn(name: "relay") { try await relay.run() }
            let frontAddress = try front.localAddress()
            do { try await body(relay, frontAddress) } catch {
                relay.stop()
                echo.close()
                throw error
            }
            relay.stop()
            try await relaying.value
            echo.close()
            try await echoing.value
            front.close()
        }
    }

    @Test func eachRoundTripTakesAtLeastBothLatenciesAndTwoClientsGetTheirOwnAnswers() throws {
        let up = LinkConditions(latency: .milliseconds(15))
        let down = LinkConditions(latency: .milliseconds(10))
        try withRelay(upstream: up, downstream: down) { relay, address in
            let a = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
            let b = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
            defer {
                a.close()
                b.close()
            }
            for i in 0..<10 {
                let started = MonotonicClock.nanoseconds()
                try await a.send([UInt8(i), 1], to: address)
                try await b.send([UInt8(i), 2], to: address)
                let fromA: [UInt8] = try await a.receive(maxBytes: 64, timeout: .seconds(2))
                let fromB: [UInt8] = try await b.receive(maxBytes: 64, timeout: .seconds(2))
                let elapsed = MonotonicClock.nanoseconds() - started
                #expect(fromA == [UInt8(i), 1])
                #expect(fromB == [UInt8(i), 2])
                #expect(elapsed >= 25_000_000, "held for 15 ms up and 10 ms down")
            }
            #expect(relay.clientCount == 2)
            #expect(relay.counters.upstreamDatagrams == 20)
            #expect(relay.counters.downstreamDatagrams == 20)
            #expect(relay.droppedDatagrams == 0)
        }
    }

    @Test func aLinkThatLosesEverythingUpstreamDeliversNothing() throws {
        try withRelay(upstream: LinkConditions(loss: 1), downstream: .perfect) { relay, address in
            let client = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
            defer { client.close() }
            for i in 0..<10 { try await client.send([UInt8(i)], to: address) }
            await #expect(throws: NetError.self) { let _: [UInt8] = try await client.receive(maxBytes: 64, timeout: .milliseconds(200)) }
            #expect(relay.counters.upstreamDatagrams == 10)
            #expect(relay.droppedDatagrams == 10)
            #expect(relay.counters.downstreamDatagrams == 0)
        }
    }
}
