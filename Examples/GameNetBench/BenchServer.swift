import GameNet
import NetCore

/// The GameNet settings both ends of every workload use: one reliable-ordered channel (as the
/// ENet side's one channel), room for the idle workload's peers, defaults otherwise.
func benchConfig(peers: Int) -> GameNetConfig {
    var config = GameNetConfig()
    config.channels = [ChannelConfig(.reliableOrdered)]
    config.maxConnections = max(64, peers + 16)
    config.maxPendingHandshakes = 256
    if benchEncrypted {
        // A fixed key: the bench measures the cipher's cost, not key distribution.
        config.encryption = .preSharedKey(GameNetKey(bytes: (0..<32).map { UInt8($0) })!)  // 32 bytes: a valid key
    }
    return config
}

/// The server side of one workload on 127.0.0.1:`port`; prints its RESULT line and returns.
/// - latency / cpu / bulk: one client; checks every message arrives in order and intact, then
///   sends a one-byte "done" and waits for the client to leave.
/// - idle: waits for `peers` connections, settles, measures memory per peer and CPU per second
///   over `seconds`, then disconnects everyone.
nonisolated(nonsending) func runServer(_ arguments: BenchArguments) async throws {
    let workload = arguments.string("workload", "latency")
    let count = arguments.int("count", 600)
    let peers = arguments.int("peers", 1_000)
    let idleSeconds = arguments.int("seconds", 10)
    let residentBefore = residentBytes()
    let heapBefore = heapBytes()
    let socket = try UDPSocket(bindTo: .loopbackIPv4(port: UInt16(arguments.int("port", 40_000))))
    defer { socket.close() }
    let host = try Host(config: benchConfig(peers: peers))
    say("ready")

    var peer: ConnectionID?
    var baseBytes = 0
    var baseDatagrams = 0
    var cpuAtConnect: Int64 = 0
    var expected: UInt32 = 0
    var latencies: [Int64] = []
    var bytesDelivered = 0
    var firstSentNs: Int64 = 0
    var lastDeliveryNs: Int64 = 0
    var finished = false
    var gone = false
    var connected = 0
    var failure: String?
    var finalStats: ConnectionStats?
    var cpuAtEnd: Int64 = 0
    let giveUp = MonotonicClock.nanoseconds() + 300_000_000_000

    func handle(_ event: GameNetEvent) throws {
        switch event {
        case .connected(let id):
            connected += 1
            if peer == nil {
                peer = id
                baseBytes = host.stats(id)?.bytesSent ?? 0
                baseDatagrams = host.stats(id)?.packetsSent ?? 0
                cpuAtConnect = cpuMicroseconds()
            }
        case .message(_, _, let bytes):
            let now = MonotonicClock.nanoseconds()
            guard let (index, sentNs) = parseBenchMessage(bytes), index == expected else {
                failure = "message \(expected) out of order or corrupt"
                finished = true
                return
            }
            if index == 0 { firstSentNs = sentNs }
            expected += 1
            latencies.append(now - sentNs)
            bytesDelivered += bytes.count
            lastDeliveryNs = now
            if expected == UInt32(count) {
                finished = true
                // Now: the pump goes on to its deadline, and the client may leave meanwhile.
                finalStats = host.stats(peer!)  // `peer` is set: a message came from it
                cpuAtEnd = cpuMicroseconds()
                try host.send([1], to: peer!, channel: 0)  // `peer` is set: a message came from it
            }
        case .disconnected:
            gone = true
        }
    }

    if workload == "idle" {
        while connected < peers, MonotonicClock.nanoseconds() < giveUp {
            try await pump(host, on: socket, untilNs: MonotonicClock.nanoseconds() + 100_000_000, handle)
        }
        try await pump(host, on: socket, untilNs: MonotonicClock.nanoseconds() + 2_000_000_000, handle)
        let resident = residentBytes() - residentBefore
        let heap = heapBytes() - heapBefore
        let cpuStart = cpuMicroseconds()
        let wallStart = MonotonicClock.nanoseconds()
        try await pump(host, on: socket, untilNs: wallStart + Int64(idleSeconds) * 1_000_000_000, handle)
        let cpu = cpuMicroseconds() - cpuStart
        let wall = MonotonicClock.nanoseconds() - wallStart
        let cpuPerSecond = Double(cpu) / 1_000 / (Double(wall) / 1e9)
        var fields: [(String, String)] = [("connected", "\(host.connectedIDs.count)")]
        fields.append(("rss_per_peer", "\(resident / peers)"))
        fields.append(("heap_per_peer", "\(heap / peers)"))
        fields.append(("cpu_ms_per_s", "\(cpuPerSecond)"))
        report(fields)
        for id in host.connectedIDs { host.disconnect(id, nowNs: MonotonicClock.nanoseconds()) }
        try await pump(host, on: socket, untilNs: MonotonicClock.nanoseconds() + 200_000_000, handle)
        return
    }

    while !finished, MonotonicClock.nanoseconds() < giveUp {
        try await pump(host, on: socket, untilNs: MonotonicClock.nanoseconds() + 100_000_000, handle)
    }
    let cpu = cpuAtEnd - cpuAtConnect
    let stats = finalStats
    if let failure { throw BenchFailure(failure) }
    guard expected == UInt32(count) else { throw BenchFailure("\(expected) of \(count) messages arrived") }
    let sorted = latencies.sorted()
    let bytes = (stats?.bytesSent ?? 0) - baseBytes
    let datagrams = (stats?.packetsSent ?? 0) - baseDatagrams
    let seconds = Double(lastDeliveryNs - firstSentNs) / 1e9
    var fields: [(String, String)] = [("delivered", "\(expected)")]
    fields.append(("p50_ms", milliseconds(percentile(sorted, 0.5))))
    fields.append(("p99_ms", milliseconds(percentile(sorted, 0.99))))
    fields.append(("bytes", "\(bytes)"))
    fields.append(("datagrams", "\(datagrams)"))
    fields.append(("cpu_us", "\(cpu)"))
    fields.append(("goodput_MBps", "\(Double(bytesDelivered) / seconds / 1e6)"))
    report(fields)
    // Until the client has its "done" and leaves (or 10 s).
    let leaveBy = MonotonicClock.nanoseconds() + 10_000_000_000
    while !gone, MonotonicClock.nanoseconds() < leaveBy {
        try await pump(host, on: socket, untilNs: MonotonicClock.nanoseconds() + 100_000_000, handle)
    }
}
