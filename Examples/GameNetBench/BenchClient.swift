import GameNet
import NetCore

/// The client side of one workload, to the server (or the relay in front of it) at
/// 127.0.0.1:`port`; prints its RESULT line.
/// - latency: `count` 32-byte messages at `hz` (60), each on the channel when its time comes.
/// - cpu: `count` 32-byte messages as fast as the channel takes them.
/// - bulk: `count` messages of `size` bytes (1 MiB), as fast as the channel takes them.
/// - idle: `peers` clients, each with its own socket, connected in batches of 20 every 10 ms,
///   kept until the server disconnects them.
nonisolated(nonsending) func runClient(_ arguments: BenchArguments) async throws {
    let workload = arguments.string("workload", "latency")
    let count = arguments.int("count", 600)
    let server = SocketAddress.loopbackIPv4(port: UInt16(arguments.int("port", 40_000)))
    if workload == "idle" { return try await runIdleClients(arguments, server: server) }
    let size = workload == "bulk" ? arguments.int("size", 1 << 20) : 32
    let intervalNs = Int64(1e9 / arguments.double("hz", 60))
    let socket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
    defer { socket.close() }
    let client = try Client(server: server, config: benchConfig(peers: 1))
    client.connect(nowNs: MonotonicClock.nanoseconds())

    var connected = false
    var done = false
    var ended = false
    func handle(_ event: GameNetEvent) {
        switch event {
        case .connected: connected = true
        case .message(_, _, let bytes): done = done || bytes == [1]
        case .disconnected: ended = true
        }
    }
    let giveUp = MonotonicClock.nanoseconds() + 300_000_000_000
    while !connected, !ended, MonotonicClock.nanoseconds() < giveUp {
        try await pump(client, on: socket, untilNs: MonotonicClock.nanoseconds() + 10_000_000, handle)
    }
    guard connected else { throw BenchFailure("no connection") }
    let baseBytes = client.stats?.bytesSent ?? 0
    let baseDatagrams = client.stats?.packetsSent ?? 0
    let baseResent = client.stats?.messagesResent ?? 0
    let cpuStart = cpuMicroseconds()
    let startNs = MonotonicClock.nanoseconds()
    var sent = 0
    while sent < count, !ended {
        if workload == "latency" {
            try await pump(client, on: socket, untilNs: startNs + Int64(sent) * intervalNs, handle)
            try client.send(benchMessage(index: UInt32(sent), size: size, sentNs: MonotonicClock.nanoseconds()), channel: 0)
            sent += 1
            continue
        }
        while sent < count, try queue(benchMessage(index: UInt32(sent), size: size, sentNs: MonotonicClock.nanoseconds()), on: client) {
            sent += 1
        }
        try await pump(client, on: socket, untilNs: MonotonicClock.nanoseconds() + 1_000_000, handle)
    }
    while !done, !ended, MonotonicClock.nanoseconds() < giveUp {
        try await pump(client, on: socket, untilNs: MonotonicClock.nanoseconds() + 10_000_000, handle)
    }
    let cpu = cpuMicroseconds() - cpuStart
    let stats = client.stats
    guard done else { throw BenchFailure("the server never said done") }
    var fields: [(String, String)] = [("sent", "\(sent)")]
    fields.append(("bytes", "\((stats?.bytesSent ?? 0) - baseBytes)"))
    fields.append(("datagrams", "\((stats?.packetsSent ?? 0) - baseDatagrams)"))
    fields.append(("cpu_us", "\(cpu)"))
    fields.append(("resent", "\((stats?.messagesResent ?? 0) - baseResent)"))
    report(fields)
    client.disconnect(nowNs: MonotonicClock.nanoseconds())
    try await pump(client, on: socket, untilNs: MonotonicClock.nanoseconds() + 1_000_000, handle)
}

/// `peers` clients on sockets of their own, each pumped by a tasklet of its own on this loop.
nonisolated(nonsending) private func runIdleClients(_ arguments: BenchArguments, server: SocketAddress) async throws {
    let peers = arguments.int("peers", 1_000)
    let tally = IdleTally()
    var handles: [TaskletHandle<Void>] = []
    for index in 0..<peers {
        if index % 20 == 0 { try await sleep(for: .milliseconds(10)) }
        let handle = Loop.current!.spawn(name: "idle-peer") {  // a tasklet: Loop.current is set
            let socket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
            defer { socket.close() }
            let client = try Client(server: server, config: benchConfig(peers: 1))
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var ended = false
            let giveUp = MonotonicClock.nanoseconds() + 120_000_000_000
            while !ended, MonotonicClock.nanoseconds() < giveUp {
                try await pump(client, on: socket, untilNs: MonotonicClock.nanoseconds() + 1_000_000_000) { event in
                    switch event {
                    case .connected: tally.connected += 1
                    case .disconnected: ended = true
                    case .message: break
                    }
                }
            }
        }
        handles.append(handle)
    }
    for handle in handles { try await handle.value }
    report([("connected", "\(tally.connected)")])
}

/// Counts the idle clients' connections; written by their tasklets, all on one loop's thread.
final class IdleTally: @unchecked Sendable {  // one loop's thread only
    var connected = 0
}

/// Queues a message on channel 0. - Returns: false when the channel is full (pump, then retry).
private func queue(_ message: [UInt8], on client: Client) throws -> Bool {
    do {
        try client.send(message, channel: 0)
        return true
    } catch let error where error == .sendQueueFull(channel: 0) {
        return false
    }
}
