// gamenet-bench: GameNet's side of scripts/bench-gamenet-vs-enet.sh (Benchmarks/enet/enet-bench.c
// is ENet's), and the UDP relay both sides run through.
//   gamenet-bench relay listen=PORT port=SERVER_PORT latency_ms=25 jitter_ms=0 loss=0.05 bandwidth=0 seed=1
//   gamenet-bench server port=PORT workload=latency|cpu|bulk|idle [count=N] [peers=N] [seconds=N]
//   gamenet-bench client port=PORT workload=... [count=N] [size=BYTES] [hz=60] [peers=N]
// Server and client also take encrypt=1: ChaCha20-Poly1305 on every data packet, keyed by a
// pre-shared key both ends know (GameNet's defaults otherwise).
// The relay applies the same conditions in both directions (one-way latency, so RTT is twice
// it); it runs until killed. Server and client print one `RESULT key=value ...` line each.
import GameNet
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

let mode = CommandLine.arguments.dropFirst().first ?? ""
let arguments = BenchArguments(CommandLine.arguments.dropFirst(2))
benchEncrypted = arguments.int("encrypt", 0) == 1
// The relay on select: libev rounds each epoll wait up to whole milliseconds, which would let a
// datagram leave up to 1 ms after its time, by an amount that depends on each library's traffic
// (it moved both p50s by 0.6-0.9 ms); select's waits are in microseconds. Few descriptors here.
let loop = try Loop(backend: mode == "relay" ? .select : .automatic, name: "gamenet-bench")
let failed = ExitBox()
loop.spawn(name: mode) {
    do {
        switch mode {
        case "relay": try await runRelay(arguments)
        case "server": try await runServer(arguments)
        case "client": try await runClient(arguments)
        default: throw BenchFailure("usage: gamenet-bench relay|server|client key=value...")
        }
    } catch {
        print("gamenet-bench \(mode): \(error)")
        failed.value = true
    }
}
loop.run()
exit(failed.value ? 1 : 0)

/// Whether the tasklet failed; set on the loop's thread, read after `run` returned on the same.
final class ExitBox: @unchecked Sendable {  // the main thread only
    var value = false
}

nonisolated(nonsending) func runRelay(_ arguments: BenchArguments) async throws {
    var link = LinkConditions(
        loss: arguments.double("loss", 0), latency: .microseconds(Int64(arguments.double("latency_ms", 0) * 1_000)),
        jitter: .microseconds(Int64(arguments.double("jitter_ms", 0) * 1_000)),
        bandwidthBytesPerSecond: arguments.int("bandwidth", 0))
    link.maxQueueDelayNs = 200_000_000
    let front = try UDPSocket(bindTo: .loopbackIPv4(port: UInt16(arguments.int("listen", 40_001))))
    defer { front.close() }
    let relay = SimulatedRelay(
        front: front, server: .loopbackIPv4(port: UInt16(arguments.int("port", 40_000))), upstream: link, downstream: link,
        seed: UInt64(arguments.int("seed", 1)))
    say("ready")
    try await relay.run()
}
