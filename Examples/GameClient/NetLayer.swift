import HTTPClient
import HTTPTestServer
import NetCore
import Workers

/// What the net layer did, written by its tasklets on the game thread (the loop is pumped
/// there), read by the frame loop on the same thread.
final class NetLayerState: @unchecked Sendable {  // the game thread only
    var chatRoundTrips = 0
    var syncRoundTrips = 0
    var workerDownload: (bytes: UInt64, seconds: Double)?
    var taskletDownload: (bytes: UInt64, seconds: Double)?
    var errors: [String] = []
    var watchdogReports: [WatchdogReport] = []
    var downloadsDone: Bool { (workerDownload != nil && taskletDownload != nil) || !errors.isEmpty }
}

/// Starts the game's net tasklets on `loop`: chat over TCP, state sync over UDP at 20 Hz, an
/// asset through `callAsync` and the blocking client, another through tasklets, and, once, a
/// deliberately slow tasklet for the watchdog to catch.
func startNetLayer(
    on loop: Loop, peers: PeerServers, assetURL: String, assetSize: UInt64, seed: UInt64,
    pool: WorkerPool, state: NetLayerState
) {
    loop.spawn(name: "chat") {
        let socket = try await StreamSocket.connect(to: peers.chatAddress, timeout: .seconds(2))
        defer { socket.close() }
        while !state.downloadsDone {
            try await socket.write("player1: hello\n")
            _ = try await socket.read(exactly: 15, timeout: .seconds(2))
            state.chatRoundTrips += 1
            try await sleep(for: .milliseconds(250))
        }
    }
    loop.spawn(name: "state-sync") {
        let udp = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
        defer { udp.close() }
        var tick: UInt64 = 0
        while !state.downloadsDone {
            try await udp.send(withUnsafeBytes(of: tick) { Array($0) }, to: peers.syncAddress)
            _ = try await udp.receive(maxBytes: 64, timeout: .milliseconds(200))
            state.syncRoundTrips += 1
            tick += 1
            try await sleep(for: .milliseconds(50))  // 20 Hz
        }
    }
    loop.spawn(name: "asset-via-workers") {
        do {
            // The whole download runs on a worker thread with blocking sockets; the tasklet
            // parks until it is done and gets the result back on the game thread.
            let result = try await pool.callAsync("asset download, blocking client") { _ in
                try blockingDownload(url: assetURL, seed: seed)
            }
            state.workerDownload = result
        } catch {
            state.errors.append("asset via workers: \(error)")
        }
    }
    loop.spawn(name: "asset-via-tasklets") {
        do {
            let start = ContinuousClock.now
            // A client with a game's caps: two connections, two kept idle, a 16 KiB buffer each
            // (the body itself goes straight into this tasklet's buffer).
            let client = Client(
                configuration: HTTPClientConfiguration(
                    maxConnectionsPerHost: 2, maxIdleConnections: 2, connectionBufferSize: 16 << 10))
            let response = try await client.get(assetURL)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 64)
            defer { buffer.deallocate() }
            var offset: UInt64 = 0
            while case let n = try await response.body.read(into: buffer), n > 0 {
                if let bad = GeneratedContent.firstMismatch(in: UnsafeRawBufferPointer(rebasing: buffer[0..<n]), seed: seed, offset: offset)
                {
                    throw GameError("wrong byte at \(offset + UInt64(bad))")
                }
                offset += UInt64(n)
            }
            guard offset == assetSize else { throw GameError("\(offset) of \(assetSize) bytes") }
            state.taskletDownload = (offset, seconds(ContinuousClock.now - start))
        } catch {
            state.errors.append("asset via tasklets: \(error)")
        }
    }
}

/// A tasklet that computes for 40 ms without yielding: it holds the game thread, and the
/// watchdog must say so, by name.
func startSlowTasklet(on loop: Loop) {
    loop.spawn(name: "deliberately-slow-pathfinding") {
        simulateWork(milliseconds: 40)
    }
}

/// The worker's side: the blocking client, every byte checked. - Returns: bytes and seconds.
func blockingDownload(url: String, seed: UInt64) throws -> (bytes: UInt64, seconds: Double) {
    let start = ContinuousClock.now
    let response = try BlockingClient().get(url)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 64)
    defer { buffer.deallocate() }
    var offset: UInt64 = 0
    while case let n = try response.read(into: buffer), n > 0 {
        if let bad = GeneratedContent.firstMismatch(in: UnsafeRawBufferPointer(rebasing: buffer[0..<n]), seed: seed, offset: offset) {
            throw GameError("wrong byte at \(offset + UInt64(bad))")
        }
        offset += UInt64(n)
    }
    return (offset, seconds(ContinuousClock.now - start))
}

struct GameError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
