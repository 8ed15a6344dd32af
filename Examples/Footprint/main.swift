// footprint: what the game-client net layer costs in memory, in bytes, measured as the
// process's resident memory (RSS, /proc/self/statm) before and after each piece is made:
// an idle loop, 100 parked tasklets, TCP connections with default buffers (and the kernel's
// socket memory from /proc/net/sockstat), a worker thread with its configured stack, and an idle
// HTTP client. Each piece is made many times and the RSS delta divided, so the page granularity
// of RSS averages out.
//   swift run -c release footprint
import HTTPClient
import HTTPTestServer
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

func resident() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    let fields = String(decoding: buffer[0..<max(0, n)], as: UTF8.self).split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The kernel's TCP socket memory, in bytes ("TCP: ... mem N" pages in /proc/net/sockstat).
func kernelTCPMemory() -> Int {
    let fd = open("/proc/net/sockstat", O_RDONLY)
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 1024)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    for line in String(decoding: buffer[0..<max(0, n)], as: UTF8.self).split(separator: "\n") where line.hasPrefix("TCP:") {
        let words = line.split(separator: " ")
        if let index = words.firstIndex(of: "mem"), index + 1 < words.count, let pages = Int(words[index + 1]) {
            return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
    }
    return 0
}

func report(_ what: String, bytes: Int, target: String = "") {
    print("\(what): \(bytes) B (\(bytes / 1024) KiB)\(target.isEmpty ? "" : "  [\(target)]")")
}

// Warm the runtime (first task, first loop) so that one-time costs are not charged to a piece.
do {
    let warm = try Loop()
    warm.spawn { try await sleep(for: .milliseconds(1)) }
    warm.run()
}

// An idle loop, and 100 tasklets parked on it (each waiting on an Event), 20 loops' worth.
var loops: [Loop] = []
var base = resident()
for _ in 0..<20 { loops.append(try Loop()) }
let idleLoop = (resident() - base) / 20
report("idle loop", bytes: idleLoop)
let events = (0..<20).map { _ in NetCore.Event() }
base = resident()
for (loop, event) in zip(loops, events) {
    for _ in 0..<100 { loop.spawn { _ = try await event.wait(timeout: nil) } }
    _ = loop.pump(budget: .milliseconds(50))  // each tasklet runs to its park
}
let hundredParked = (resident() - base) / 20
report("100 parked tasklets", bytes: hundredParked)
report("idle loop + 100 parked tasklets", bytes: idleLoop + hundredParked, target: "target < 256 KiB")
for (loop, event) in zip(loops, events) {
    event.set()
    while loop.stats.taskletsAlive > 0 { _ = loop.pump(budget: .milliseconds(5)) }
}

// TCP connections with default buffers: 200 pairs on loopback, each end a NetCore socket that
// has sent and received 64 KiB (so the kernel buffers exist), parked on a read.
let loop = try Loop()
let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
let address = try listener.localAddress()
let pairs = 200
let kernelBefore = kernelTCPMemory()
base = resident()
let keep = Channel<StreamSocket>(capacity: pairs * 4)
loop.spawn {
    for _ in 0..<pairs {
        let client = try await StreamSocket.connect(to: address, timeout: .seconds(2))
        let server = try await listener.accept()
        let payload = [UInt8](repeating: 1, count: 64 << 10)
        try await client.write(payload)
        _ = try await server.read(exactly: payload.count)
        try await keep.send(client)
        try await keep.send(server)
    }
}
while loop.stats.taskletsAlive > 0 { _ = loop.pump(budget: .milliseconds(10)) }
let perConnection = (resident() - base) / pairs
let kernelPerConnection = (kernelTCPMemory() - kernelBefore) / pairs
report("TCP connection (both NetCore ends, user space)", bytes: perConnection)
report("TCP connection, kernel socket memory", bytes: kernelPerConnection)
report("TCP connection, total", bytes: perConnection + kernelPerConnection, target: "target < 80 KiB")

// The same with 64 KiB sent and not yet read: the kernel holds it in the connection's buffers.
let kernelBeforeQueued = kernelTCPMemory()
base = resident()
loop.spawn {
    for _ in 0..<pairs {
        let client = try await StreamSocket.connect(to: address, timeout: .seconds(2))
        let server = try await listener.accept()
        try await client.write([UInt8](repeating: 2, count: 64 << 10))
        try await keep.send(client)
        try await keep.send(server)
    }
}
while loop.stats.taskletsAlive > 0 { _ = loop.pump(budget: .milliseconds(10)) }
let queuedUser = (resident() - base) / pairs
let queuedKernel = (kernelTCPMemory() - kernelBeforeQueued) / pairs
// No target here: the 64 KiB are the application's data in flight, not the connection's cost.
report(
    "TCP connection with 64 KiB unread in its buffers, user + kernel, the data included", bytes: queuedUser + queuedKernel,
    target: "\(queuedUser + queuedKernel - (64 << 10)) B beyond the data")

// A worker thread with a 256 KiB stack, after it ran a job.
base = resident()
let pools = try (0..<8).map { _ in try WorkerPool(threads: 1, maxQueued: 4, stackSize: 256 << 10, name: "footprint") }
for pool in pools { _ = try pool.call { _ in 1 } }
report("worker thread (256 KiB stack configured), resident", bytes: (resident() - base) / 8)
for pool in pools { pool.shutdown() }

// An idle HTTP client, then with one idle pooled connection.
let server = try TestHTTPServer.start()
base = resident()
let clients = (0..<50).map { _ in Client() }
report("idle HTTP client", bytes: (resident() - base) / 50)
base = resident()
let url = "\(server.baseURL)/gen/1000"
for client in clients { loop.spawn { _ = try await client.get(url).body.collect() } }
while loop.stats.taskletsAlive > 0 { _ = loop.pump(budget: .milliseconds(10)) }
report("HTTP client with one idle keep-alive connection (client side)", bytes: (resident() - base) / 50)
server.stop()
