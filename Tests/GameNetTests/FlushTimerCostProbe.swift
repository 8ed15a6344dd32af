import Glibc
import NetCore
import TestSupport
import Testing

@testable import GameNet

/// Not a test: what the driver's flush timer costs an idle session, run on demand
/// (`GAMENET_FLUSH_PROBE=1 swift test --skip-build --filter FlushTimerCostProbe`). A host and a
/// client, connected over real UDP on 127.0.0.1, idle for 3 s each round with the timer off and
/// at 2 ms, alternating; it prints the process's CPU per idle second. Asserts only that the
/// session stayed up.
@Suite struct FlushTimerCostProbe {
    static func idleRound(flush: Duration?) throws -> Int64 {
        let (hostSocket, clientSocket, hostAddress) = try loopbackSocketPair()
        let cpu = try runTasklet { () async throws -> Int64 in
            let serving = Loop.current?.spawn(name: "idle-host") { () async throws -> Bool in
                let host = try Host()
                var connected = false
                do {
                    try await UDPDriver.run(host, on: hostSocket, flushInterval: flush, limit: .milliseconds(3_500)) { event in
                        if case .connected = event { connected = true }
                        return true
                    }
                } catch let error as NetError where error.kind == .timedOut {}
                return connected
            }
            let client = try Client(server: hostAddress)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var startCPU: Int64 = 0
            do {
                try await UDPDriver.run(client, on: clientSocket, flushInterval: flush, limit: .milliseconds(3_400)) { event in
                    if case .connected = event { startCPU = EncryptionCostProbe.cpuNs() }
                    return true
                }
            } catch let error as NetError where error.kind == .timedOut {}
            let used = EncryptionCostProbe.cpuNs() - startCPU
            #expect(try await serving?.value == true && client.isConnected)
            return used
        }
        hostSocket.close()
        clientSocket.close()
        return cpu
    }

    @Test(.enabled(if: getenv("GAMENET_FLUSH_PROBE") != nil)) func flushTimerCost() throws {
        var off: [Int64] = []
        var on: [Int64] = []
        for _ in 0..<3 {
            off.append(try Self.idleRound(flush: nil))
            on.append(try Self.idleRound(flush: .milliseconds(2)))
        }
        func ms(_ values: [Int64]) -> String {
            let s = values.sorted().map { Double($0) / 3.4e6 }  // per second of the ~3.4 s idle run
            return "median \((s[1] * 100).rounded() / 100) ms/s (\((s[0] * 100).rounded() / 100)-\((s[2] * 100).rounded() / 100))"
        }
        print("flush-timer probe, idle host+client over loopback, CPU per idle second: off \(ms(off)), 2 ms timer \(ms(on))")
    }
}
