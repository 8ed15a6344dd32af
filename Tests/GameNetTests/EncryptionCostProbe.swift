import Glibc
import NetCore
import Testing

@testable import GameNet

/// Not a test: a probe of what encryption costs, run on demand
/// (`GAMENET_CRYPTO_PROBE=1 swift test --skip-build --filter EncryptionCostProbe`). It pushes
/// the same 32-byte reliable messages through a lossless simulated link with encryption off
/// and on, alternating rounds, and prints CPU per message (both ends, process CPU time) and
/// wire bytes per data packet. It asserts only that every message arrived.
@Suite struct EncryptionCostProbe {
    static func cpuNs() -> Int64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Int64(usage.ru_utime.tv_sec) * 1_000_000_000 + Int64(usage.ru_utime.tv_usec) * 1_000
        let system = Int64(usage.ru_stime.tv_sec) * 1_000_000_000 + Int64(usage.ru_stime.tv_usec) * 1_000
        return user + system
    }

    /// CPU ns per message and wire bytes per client data packet for `messages` messages.
    static func round(_ config: GameNetConfig, messages: Int, seed: UInt64) throws -> (cpuPerMessage: Double, bytesPerPacket: Double) {
        let net = try SimulatedNetwork(seed: seed, conditions: LinkConditions(latency: .milliseconds(1)), config: config)
        let client = try net.addClient(port: 7900)
        #expect(net.run(forNs: 1_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        let before = try #require(client.stats)
        let start = cpuNs()
        // One message per 1 ms tick, as a 1 kHz sender: one message per packet, the worst case.
        for i in 0..<messages {
            try client.send(numbered(i, size: 32), channel: 0)
            net.tick()
        }
        #expect(net.run(forNs: 1_000_000_000) { net.messages(net.hostEvents, channel: 0).count == messages })
        let cpu = cpuNs() - start
        let after = try #require(client.stats)
        let bytes = Double(after.bytesSent - before.bytesSent) / Double(after.packetsSent - before.packetsSent)
        return (Double(cpu) / Double(messages), bytes)
    }

    @Test(.enabled(if: getenv("GAMENET_CRYPTO_PROBE") != nil)) func encryptionCost() throws {
        var on = GameNetConfig()
        on.encryption = .preSharedKey(EncryptionTests.key)
        let off = GameNetConfig()
        var ratios: [Double] = []
        var offCPU: [Double] = []
        var onCPU: [Double] = []
        var bytes: (off: Double, on: Double) = (0, 0)
        for r in 0..<7 {
            let a = try Self.round(off, messages: 5_000, seed: UInt64(r))
            let b = try Self.round(on, messages: 5_000, seed: UInt64(r))
            offCPU.append(a.cpuPerMessage)
            onCPU.append(b.cpuPerMessage)
            ratios.append(b.cpuPerMessage / a.cpuPerMessage)
            bytes = (a.bytesPerPacket, b.bytesPerPacket)
        }
        func summary(_ values: [Double]) -> String {
            let s = values.sorted()
            let median: Double = s[s.count / 2]
            let low: Double = s[0]
            let high: Double = s[s.count - 1]
            func r(_ v: Double) -> String { "\((v * 100).rounded() / 100)" }
            return "median \(r(median)) (\(r(low))-\(r(high)))"
        }
        print("encryption probe, 7 alternating rounds of 5,000 32-byte reliable messages, one per packet, both ends' CPU:")
        print("  CPU us per message, off: \(summary(offCPU.map { $0 / 1_000 }))")
        print("  CPU us per message, on:  \(summary(onCPU.map { $0 / 1_000 }))")
        print("  on/off ratio:            \(summary(ratios))")
        print("  wire bytes per client data packet: off \(bytes.off), on \(bytes.on)")
    }
}
