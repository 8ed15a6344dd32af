import NetCore
import TestSupport
import Testing

@testable import NetTLS

/// Two `TLSPump`s back to back in memory, their actions performed on byte queues: the steps
/// both drivers share, with no socket and no driver.
@Suite struct TLSPumpTests {
    /// One end: performs its pump's actions, sending into the peer's queue.
    final class End {
        let pump: TLSPump
        var inbound: [UInt8] = []
        var largestSend = 0
        var largestReceive = 0

        init(_ pump: TLSPump) { self.pump = pump }

        /// Writes all of `bytes` into the peer's queue. - Returns: the plaintext count taken.
        func write(_ bytes: [UInt8], to peer: End) throws -> Int? {
            var taken = 0
            return try bytes.withUnsafeBytes { plaintext in
                try run(to: peer) { try pump.writeAction(plaintext, taken: &taken) }
            }
        }

        /// Reads up to `count` bytes, as long as ciphertext is queued.
        func read(_ count: Int, from peer: End) throws -> [UInt8] {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 100_000)
            while received.count < count {
                let got = try buffer.withUnsafeMutableBytes { plaintext in
                    try run(to: peer) { try pump.readAction(into: plaintext) }
                }
                guard let got, got > 0 else { break }
                received += buffer[0..<got]
            }
            return received
        }

        /// Performs actions from `next` until one is `.done` (its count), or a receive finds
        /// nothing queued (nil).
        func run(to peer: End, _ next: () throws -> TLSPump.Action) throws -> Int? {
            while true {
                switch try next() {
                case .done(let count):
                    return count
                case .send(let bytes):
                    peer.inbound += bytes
                    largestSend = max(largestSend, bytes.count)
                    pump.sent(bytes.count)
                case .receive(let buffer):
                    guard !inbound.isEmpty else { return nil }
                    let count = min(buffer.count, inbound.count)
                    inbound.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    inbound.removeFirst(count)
                    largestReceive = max(largestReceive, count)
                    try pump.received(count)
                }
            }
        }
    }

    static func connectedPair(_ pki: TLSTestPKI) throws -> (client: End, server: End) {
        let client = End(try TLSPump(context: try pki.clientContext(), role: .client(serverName: "localhost")))
        let server = End(try TLSPump(context: try pki.serverContext(), role: .server))
        var done = (false, false)
        for _ in 0..<10 where !(done.0 && done.1) {
            done.0 = try client.run(to: server) { try client.pump.handshakeAction() } != nil
            done.1 = try server.run(to: client) { try server.pump.handshakeAction() } != nil
        }
        #expect(done.0 && done.1, "the handshake finishes in a few flights")
        return (client, server)
    }

    @Test func aBulkTransferGrowsTheBuffersAndTheyShrinkBack() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (client, server) = try Self.connectedPair(pki)
        #expect(client.pump.capacities == (TLSPump.recordCapacity, TLSPump.recordCapacity), "a new stream holds a record each way")

        let payload = tlsPattern(1 << 20, seed: 5)
        #expect(try server.write(payload, to: client) == payload.count)
        #expect(server.largestSend > TLSPump.recordCapacity, "a bulk write sends several records at once")
        #expect(server.largestSend <= TLSPump.busyOutputCapacity)
        #expect(server.pump.capacities.output == TLSPump.recordCapacity, "a finished write gives the busy output back")

        #expect(try client.read(payload.count, from: server) == payload)
        #expect(client.largestReceive == TLSPump.busyInputCapacity, "full receives made the input grow")
        #expect(try server.write(Array("small".utf8), to: client) == 5)
        #expect(try client.read(5, from: server) == Array("small".utf8))
        #expect(try client.read(1, from: server).isEmpty, "nothing more came")
        #expect(client.pump.capacities.input == TLSPump.recordCapacity, "a small receive gives the busy input back")
        #expect(client.pump.isIdle { _ in nil } && server.pump.isIdle { _ in nil })
    }

    @Test func aTimedOutReceiveKeepsTheStreamAndAFailedSendBreaksIt() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (client, server) = try Self.connectedPair(pki)
        let timeout = NetError.timedOut("read", after: .seconds(1))
        _ = client.pump.transportFailed(timeout, receiving: true, during: .read)
        #expect(!client.pump.isBroken)
        let renamed = server.pump.transportFailed(timeout, receiving: false, during: .write)
        #expect(server.pump.isBroken)
        #expect((renamed as? NetError)?.operation == "TLS write")
        #expect(!server.pump.isIdle { _ in nil })
    }
}
