import NetCore
import TestSupport
import Testing

@testable import GameNet

/// A deterministic generator, so a failing lossy run can be replayed with the same seed.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
}

/// A UDP relay between two endpoints that drops, duplicates and reorders datagrams, driven by a
/// seeded generator. Runs as a tasklet; confined to that loop's thread.
final class LossyRelay: @unchecked Sendable {  // loop thread only (its tasklet and the test's)
    let socket: UDPSocket
    var random: SplitMix64
    let drop: Double, duplicate: Double, reorder: Double
    var dropped = 0, duplicated = 0, reordered = 0, forwarded = 0
    private var held: [([UInt8], SocketAddress)] = []

    init(seed: UInt64, drop: Double, duplicate: Double, reorder: Double) throws {
        socket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
        random = SplitMix64(state: seed)
        self.drop = drop
        self.duplicate = duplicate
        self.reorder = reorder
    }

    var address: SocketAddress { get throws { try socket.localAddress() } }

    /// Forwards between `a` and `b` until cancelled.
    func run(between a: SocketAddress, and b: SocketAddress) async throws {
        while true {
            let (bytes, from) = try await socket.receive()
            guard let to = from == a ? b : (from == b ? a : nil) else { continue }
            if random.chance(drop) {
                dropped += 1
                continue
            }
            // Held datagrams go out after a later one (in reverse order): they arrive late.
            if random.chance(reorder), held.count < 8 {
                held.append((bytes, to))
                reordered += 1
                continue
            }
            try await socket.send(bytes, to: to)
            forwarded += 1
            if random.chance(duplicate) {
                try await socket.send(bytes, to: to)
                duplicated += 1
            }
            while let (late, lateTo) = held.popLast() { try await socket.send(late, to: lateTo) }
        }
    }
}

/// Message `i`: its index, then a length and bytes that depend on it, so a swapped, cut or
/// corrupted message is caught.
func numberedMessage(_ i: Int) -> [UInt8] {
    var bytes = withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }
    for k in 0..<(i % 300) { bytes.append(UInt8(truncatingIfNeeded: i &* 31 &+ k)) }
    return bytes
}

func loopbackUDP() throws -> (UDPSocket, SocketAddress) {
    let socket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
    return (socket, try socket.localAddress())
}

/// Options for tests: fast resends, short linger, so that lossy runs finish in a second or two.
func fastOptions(window: Int = 32) -> ReliableChannelOptions {
    var options = ReliableChannelOptions()
    options.sendWindow = window
    options.receiveWindow = window
    options.initialRTO = .milliseconds(20)
    options.minRTO = .milliseconds(4)
    options.maxRTO = .milliseconds(200)
    options.lingerTimeout = .milliseconds(300)
    options.peerTimeout = .seconds(5)
    return options
}

@Suite struct ReliableChannelTests {
    /// 2000 numbered messages through a relay that drops 20%, duplicates and reorders: each one
    /// arrives exactly once, in order, intact; then the sender's close reaches the receiver.
    @Test func everyMessageArrivesOnceInOrderThroughALossyReorderingRelay() throws {
        let count = 2000
        let (socketA, addressA) = try loopbackUDP()
        let (socketB, addressB) = try loopbackUDP()
        let relay = try LossyRelay(seed: 0x5EED_2024, drop: 0.2, duplicate: 0.1, reorder: 0.1)
        let relayAddress = try relay.address
        let outcome = try runTasklet { () async throws -> (ReliableChannelStats, ReliableChannelStats, Int, Int) in
            let loop = Loop.current!
            let relayTasklet = loop.spawn(name: "relay") { try await relay.run(between: addressA, and: addressB) }
            var options = fastOptions()
            options.lingerTimeout = .seconds(3)  // long enough that some ack gets through 20% loss
            let a = try ReliableChannel(socket: socketA, peer: relayAddress, options: options)
            let b = try ReliableChannel(socket: socketB, peer: relayAddress, options: options)
            // On a failed expectation the channels and relay must still stop, or run() would never return.
            defer {
                a.close()
                b.close()
                relayTasklet.cancel()
            }
            let sender = loop.spawn(name: "sender") {
                for i in 0..<count { try await a.send(numberedMessage(i)) }
                a.close()
            }
            let (wrong, closedCleanly) = try await withTimeout(.seconds(60)) { () async throws -> (Int, Int) in
                var wrong = 0
                for i in 0..<count where try await b.receive() != numberedMessage(i) { wrong += 1 }
                do {
                    _ = try await b.receive()
                    return (wrong, 0)
                } catch ReliableChannelError.peerClosed {
                    return (wrong, 1)
                }
            }
            try await sender.value
            b.close()
            // A's close lingers until B's ack of everything gets through the relay.
            try await withTimeout(.seconds(10)) { while !a.isShutDown { try await sleep(for: .milliseconds(5)) } }
            let statsA = a.stats
            let statsB = b.stats
            relayTasklet.cancel()
            return (statsA, statsB, wrong, closedCleanly)
        }
        let (a, b, wrong, closedCleanly) = outcome
        #expect(wrong == 0, "every message arrives intact and in order")
        #expect(closedCleanly == 1, "after the last message the receiver gets .peerClosed")
        #expect(b.received == count)
        #expect(a.sent == count && a.acked == count)
        #expect(a.resent > 0 && relay.dropped > 0, "the relay really lost packets: \(a)")
        #expect(b.duplicatesDropped > 0, "duplicates were seen and suppressed: \(b)")
        #expect(b.outOfOrderBuffered > 0, "reordered packets were buffered: \(b)")
        #expect(a.sendWindowHighWater <= 32 && a.sendWindowHighWater > 1)
        #expect(b.receiveBufferHighWater <= 32)
        #expect(a.bufferedBytesHighWater <= 32 * (4 + 300), "the send buffer is bounded by the window")
        #expect(a.malformedPackets == 0 && b.malformedPackets == 0)
    }

    /// With the window full, send parks; a selective ack frees bytes but not the window; the
    /// cumulative ack past the first message lets the parked send go on.
    @Test func sendParksWhileTheWindowIsFull() throws {
        let (socketA, addressA) = try loopbackUDP()
        let (fakePeer, peerAddress) = try loopbackUDP()
        var options = fastOptions(window: 4)
        options.initialRTO = .seconds(1)  // no resend muddles the datagram count below
        options.minRTO = .seconds(1)
        options.maxRTO = .seconds(1)
        options.lingerTimeout = .milliseconds(50)
        try runTasklet { () async throws in
            let loop = Loop.current!
            let a = try ReliableChannel(socket: socketA, peer: peerAddress, options: options)
            defer { a.close() }
            for i in 0..<4 { try await a.send([UInt8(i)]) }
            let fifthSent = Box(false)
            let fifth = loop.spawn(name: "fifth") {
                try await a.send([4])
                fifthSent.value = true
            }
            for i in 0..<4 {
                let datagram = try await fakePeer.receive(timeout: .seconds(5)).bytes
                #expect(ReliablePacket.decode(datagram, maxPayload: 1200)?.sequence == UInt32(i))
            }
            for _ in 0..<5 { await Tasklet.yield() }
            #expect(!fifthSent.value, "a full window parks the sender")
            #expect(a.stats.sent == 4 && a.stats.sendWindowHighWater == 4)

            let selective = ReliablePacket(kind: .ack, sequence: 0, ack: 0, ackBits: 0b1)  // seq 1 arrived
            try await fakePeer.send(selective.encoded(), to: addressA)
            try await withTimeout(.seconds(5)) { while a.stats.acked < 1 { await Tasklet.yield() } }
            for _ in 0..<5 { await Tasklet.yield() }
            #expect(!fifthSent.value, "a selective ack does not move the window's base")

            let cumulative = ReliablePacket(kind: .ack, sequence: 0, ack: 2, ackBits: 0)  // 0 and 1 arrived
            try await fakePeer.send(cumulative.encoded(), to: addressA)
            try await withTimeout(.seconds(5)) { try await fifth.value }
            #expect(fifthSent.value)
            #expect(a.stats.acked == 2 && a.stats.sent == 5 && a.stats.sendWindowHighWater == 4)
            a.close()
        }
        fakePeer.close()
    }

    @Test func aMessageOverTheLimitThrowsTheTypedErrorAndSendsNothing() throws {
        let (socketA, addressA) = try loopbackUDP()
        let (socketB, addressB) = try loopbackUDP()
        var options = fastOptions()
        options.maxMessageSize = 500
        try runTasklet { () async throws in
            let a = try ReliableChannel(socket: socketA, peer: addressB, options: options)
            let b = try ReliableChannel(socket: socketB, peer: addressA, options: options)
            defer {
                a.close()
                b.close()
            }
            await #expect(throws: ReliableChannelError.messageTooLarge(size: 501, limit: 500)) {
                try await a.send(Array(repeating: 1, count: 501))
            }
            #expect(a.stats.sent == 0)
            let largest = (0..<500).map { UInt8(truncatingIfNeeded: $0) }
            try await a.send(largest)
            let got = try await withTimeout(.seconds(5)) { try await b.receive() }
            #expect(got == largest)
            a.close()
            _ = try? await withTimeout(.seconds(5)) { try await b.receive() }
            b.close()
        }
        #expect(throws: ReliableChannelError.self) {
            var bad = ReliableChannelOptions()
            bad.sendWindow = 0
            _ = try runTasklet { try ReliableChannel(socket: socketA, peer: addressB, options: bad) }
        }
    }

    /// The receiver gets every message sent before the close, then `.peerClosed`; each side's
    /// later calls fail with a clear error.
    @Test func peerCloseReachesTheReceiverAfterItsMessages() throws {
        let (socketA, addressA) = try loopbackUDP()
        let (socketB, addressB) = try loopbackUDP()
        try runTasklet { () async throws in
            let a = try ReliableChannel(socket: socketA, peer: addressB, options: fastOptions())
            let b = try ReliableChannel(socket: socketB, peer: addressA, options: fastOptions())
            defer {
                a.close()
                b.close()
            }
            for i in 0..<3 { try await a.send([UInt8(i)]) }
            a.close()
            await #expect(throws: ReliableChannelError.closed) { try await a.send([9]) }
            await #expect(throws: ReliableChannelError.closed) { try await a.receive() }
            try await withTimeout(.seconds(5)) {
                for i in 0..<3 {
                    let message = try await b.receive()
                    #expect(message == [UInt8(i)])
                }
                await #expect(throws: ReliableChannelError.peerClosed) { try await b.receive() }
            }
            await #expect(throws: ReliableChannelError.peerClosed) { try await b.receive() }
            await #expect(throws: ReliableChannelError.peerClosed) { try await b.send([1]) }
            b.close()
        }
        socketA.close()
        socketB.close()
    }

    /// Garbage from the peer's address is counted as malformed, datagrams from anyone else as
    /// foreign; neither is delivered nor crashes anything, and real messages still get through.
    @Test func garbageDatagramsAreIgnoredAndCounted() throws {
        let (socketB, addressB) = try loopbackUDP()
        let (fakePeer, peerAddress) = try loopbackUDP()
        let (stranger, _) = try loopbackUDP()
        var options = fastOptions()
        options.maxMessageSize = 100
        options.lingerTimeout = .milliseconds(50)
        let header: [UInt8] = [0x52, 0x63, 1]
        var crafted: [[UInt8]] = [
            [], [0x52], [0x52, 0x63], header + [1],
            [0x00, 0x63, 1, 2] + Array(repeating: 0, count: 12),  // wrong magic
            [0x52, 0x63, 9, 2] + Array(repeating: 0, count: 12),  // unknown version
            header + [7] + Array(repeating: 0, count: 12),  // unknown kind
            header + [2] + Array(repeating: 0, count: 13),  // ack with a trailing byte
            header + [1] + Array(repeating: 0, count: 12) + [0, 10, 1, 2],  // payload shorter than its length
            header + [1] + Array(repeating: 0, count: 12) + [0, 101] + Array(repeating: 7, count: 101),  // over the limit
            header + [2] + [0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0],  // acks a packet never sent
            Array(repeating: 0xFF, count: 3000),  // truncated by the reader's buffer
        ]
        var random = SplitMix64(state: 7)
        for _ in 0..<300 {
            var datagram = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if !datagram.isEmpty { datagram[0] &= 0x3F }  // never the magic: every one is malformed
            crafted.append(datagram)
        }
        let garbage = crafted
        let outcome = try runTasklet { () async throws -> (ReliableChannelStats, [[UInt8]]) in
            let b = try ReliableChannel(socket: socketB, peer: peerAddress, options: options)
            defer { b.close() }
            // In batches, each read before the next: a few hundred small datagrams at once would
            // overflow the socket's receive buffer, and the kernel would drop some.
            for (index, datagram) in garbage.enumerated() {
                try await fakePeer.send(datagram, to: addressB)
                if index % 50 == 49 || index == garbage.count - 1 {
                    try await withTimeout(.seconds(5)) {
                        while b.stats.malformedPackets < index + 1 { try await sleep(for: .milliseconds(1)) }
                    }
                }
            }
            let forged = ReliablePacket(kind: .data, sequence: 0, ack: 0, ackBits: 0, payload: Array("forged".utf8))
            try await stranger.send(forged.encoded(), to: addressB)
            let hello = ReliablePacket(kind: .data, sequence: 0, ack: 0, ackBits: 0, payload: Array("hello".utf8))
            let world = ReliablePacket(kind: .data, sequence: 1, ack: 0, ackBits: 0, payload: Array("world".utf8))
            let farAhead = ReliablePacket(kind: .data, sequence: 5000, ack: 0, ackBits: 0, payload: [1])
            for packet in [hello, farAhead, hello, world] { try await fakePeer.send(packet.encoded(), to: addressB) }
            let got = try await withTimeout(.seconds(5)) { [try await b.receive(), try await b.receive()] }
            try await withTimeout(.seconds(5)) { while b.stats.foreignPackets == 0 { try await sleep(for: .milliseconds(1)) } }
            return (b.stats, got)
        }
        let (stats, got) = outcome
        #expect(got == [Array("hello".utf8), Array("world".utf8)])
        #expect(stats.malformedPackets == garbage.count)
        #expect(stats.foreignPackets == 1)
        #expect(stats.duplicatesDropped == 1 && stats.beyondWindowDropped == 1)
        fakePeer.close()
        stranger.close()
    }

    /// Nothing comes back from the peer: the channel fails with `.peerUnresponsive` once
    /// `peerTimeout` has passed, and wakes a parked receiver with it.
    @Test func aSilentPeerFailsTheChannel() throws {
        let (socketA, _) = try loopbackUDP()
        let (silent, silentAddress) = try loopbackUDP()
        var options = fastOptions()
        options.peerTimeout = .milliseconds(150)
        try runTasklet { () async throws in
            let a = try ReliableChannel(socket: socketA, peer: silentAddress, options: options)
            defer { a.close() }
            try await a.send([1, 2, 3])
            let error = await #expect(throws: ReliableChannelError.self) {
                try await withTimeout(.seconds(5)) { try await a.receive() }
            }
            guard case .peerUnresponsive? = error else {
                Issue.record("expected .peerUnresponsive, got \(String(describing: error))")
                return
            }
            #expect(a.stats.resent > 0)
            await #expect(throws: ReliableChannelError.self) { try await a.send([4]) }
        }
        silent.close()
    }
}
