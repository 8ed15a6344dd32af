// NetCore's benchmarks. Each one names the anchor it is compared with (Benchmarks/Anchors/);
// scripts/bench-netcore.sh runs both in one sitting and prints the ratios.
import Benchmark
import CFDHolder
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 20)

    // Anchor: Anchors/python/switch.py gevent-channel (gevent Channel ping-pong) and greenlet (raw switch).
    Benchmark(
        "channel ping-pong round trip, 2 tasklets",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .mega)
    ) { benchmark in
        let roundTrips = benchmark.scaledIterations.count
        let loop = try Loop()
        loop.disableWatchdog()
        let ping = Channel<Int>()
        let pong = Channel<Int>()
        loop.spawn {
            for _ in 0..<roundTrips { try await pong.send(try await ping.receive()) }
        }
        let clock = BenchmarkClock(benchmark)
        loop.spawn {
            clock.start()
            for value in 0..<roundTrips {
                try await ping.send(value)
                blackHole(try await pong.receive())
            }
            clock.stop()
        }
        loop.run()
    }

    // Anchor: the same round trip in gevent (Channel) and asyncio+uvloop (Queue).
    Benchmark(
        "yield between 2 tasklets",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .mega)
    ) { benchmark in
        let yields = benchmark.scaledIterations.count
        let loop = try Loop()
        loop.disableWatchdog()
        let clock = BenchmarkClock(benchmark)
        clock.start()
        for _ in 0..<2 {
            loop.spawn { for _ in 0..<(yields / 2) { await Tasklet.yield() } }
        }
        loop.run()
        clock.stop()
    }

    // Anchor: Anchors/python/wakeup.py (ev_async from a thread, 12.5 us p50) — here the whole
    // hand-off: a plain thread sends on a channel to a tasklet parked on an idle loop.
    Benchmark(
        "plain thread -> parked tasklet, wake-up latency",
        configuration: .init(
            metrics: [.custom("latency ns", polarity: .prefersSmaller, useScalingFactor: false)],
            warmupIterations: 0, maxIterations: 1)
    ) { benchmark in
        let samples = 3_000
        let loop = try Loop()
        let toTasklet = Channel<Int64>()
        let ack = Channel<Int64>()
        loop.spawn {
            for _ in 0..<samples {
                let sent = try await toTasklet.receive()
                let arrived = monotonicNanoseconds()
                try await ack.send(arrived - sent)
            }
        }
        let thread = startThread { loop.run() }
        for _ in 0..<samples {
            usleep(200)  // as the anchor: the loop is really idle in epoll_wait when the send comes
            try toTasklet.sendBlocking(monotonicNanoseconds())
            benchmark.measurement(
                .custom("latency ns", polarity: .prefersSmaller, useScalingFactor: false),
                Int(try ack.receiveBlocking()))
        }
        pthread_join(thread, nil)
    }

    // Anchor: Anchors/python/parked.py gevent / uvloop (RSS per coroutine parked on its own socket).
    Benchmark(
        "parked tasklets, memory per tasklet",
        configuration: .init(
            metrics: [
                .custom("bytes per parked tasklet", polarity: .prefersSmaller, useScalingFactor: false),
                .custom("bytes per parked tasklet + its socket", polarity: .prefersSmaller, useScalingFactor: false),
            ],
            // One iteration: RSS growth is only meaningful the first time (later rounds reuse
            // the heap the first one freed). package-benchmark runs each benchmark in its own process.
            warmupIterations: 0, maxIterations: 1)
    ) { benchmark in
        let result = try measureParkedTasklets(count: 9_900)
        benchmark.measurement(
            .custom("bytes per parked tasklet", polarity: .prefersSmaller, useScalingFactor: false), result.tasklet)
        benchmark.measurement(
            .custom("bytes per parked tasklet + its socket", polarity: .prefersSmaller, useScalingFactor: false),
            result.withSocket)
    }

    // Anchor: iperf3 -c 127.0.0.1 (raw loopback limit) in the same sitting.
    Benchmark(
        "1 GiB over loopback TCP, sender thread -> one tasklet",
        configuration: .init(
            metrics: [.wallClock, .custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)],
            warmupIterations: 1, maxIterations: 5)
    ) { benchmark in
        let megabytesPerSecond = try loopbackRead(bytes: 1 << 30)
        benchmark.measurement(.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false), megabytesPerSecond)
    }

    channelContentionBenchmarks()
    workerBenchmarks()
    gameBenchmarks()
    httpParserBenchmarks()
}

/// Starts and stops the benchmark's measurement from inside a tasklet (same thread as the loop).
final class BenchmarkClock: @unchecked Sendable {  // used only on the thread that runs the benchmark
    let benchmark: Benchmark
    init(_ benchmark: Benchmark) { self.benchmark = benchmark }
    func start() { benchmark.startMeasurement() }
    func stop() { benchmark.stopMeasurement() }
}

func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

func startThread(_ body: @escaping () -> Void) -> pthread_t {
    var thread = pthread_t()
    pthread_create(
        &thread, nil,
        { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()  // passed retained below
            return nil
        }, Unmanaged.passRetained(ThreadBody(body)).toOpaque())
    return thread
}

func residentBytes() -> Int {
    let file = fopen("/proc/self/statm", "r")
    defer { if file != nil { fclose(file) } }
    var size = 0
    var resident = 0
    guard file != nil,
        withUnsafeMutablePointer(
            to: &size,
            { sizePointer in
                withUnsafeMutablePointer(to: &resident) { fscanfTwo(file!, sizePointer, $0) }
            })
    else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func fscanfTwo(_ file: UnsafeMutablePointer<FILE>, _ a: UnsafeMutablePointer<Int>, _ b: UnsafeMutablePointer<Int>) -> Bool {
    var line = [CChar](repeating: 0, count: 256)
    guard fgets(&line, Int32(line.count), file) != nil else { return false }
    let fields = String(cString: line).split(separator: " ")
    guard fields.count >= 2, let size = Int(fields[0]), let resident = Int(fields[1]) else { return false }
    a.pointee = size
    b.pointee = resident
    return true
}

/// RSS growth per tasklet parked reading its own socket, measured like the anchor: sockets are
/// created first (their peers handed to a holder process), then the tasklets park.
func measureParkedTasklets(count: Int) throws -> (tasklet: Int, withSocket: Int) {
    var holderPID: Int32 = 0
    let control = fdholder_start(&holderPID)
    guard control >= 0 else { throw NetError(errno: errno, operation: "start fd holder") }
    defer { fdholder_stop(control, holderPID) }

    let loop = try Loop()
    loop.disableWatchdog()
    // Warm up: one tasklet parked and finished, so the loop's own structures exist already.
    do {
        var fds: [Int32] = [-1, -1]
        socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds)
        let socket = try StreamSocket(adopting: fds[0])
        let other = try StreamSocket(adopting: fds[1])
        loop.spawn { _ = try await socket.read(maxBytes: 1) }
        loop.spawn { try await other.write([1]) }
        loop.run()
        socket.close()
        other.close()
    }
    let before = residentBytes()
    var sockets: [StreamSocket] = []
    sockets.reserveCapacity(count)
    var batch: [Int32] = []
    for _ in 0..<count {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw NetError(errno: errno, operation: "socketpair")
        }
        sockets.append(try StreamSocket(adopting: fds[0]))
        batch.append(fds[1])
        if batch.count == 250 {
            guard fdholder_send(control, batch, Int32(batch.count)) == 0 else { throw NetError(errno: errno, operation: "send fds") }
            batch.forEach { close($0) }
            batch.removeAll(keepingCapacity: true)
        }
    }
    if !batch.isEmpty {
        guard fdholder_send(control, batch, Int32(batch.count)) == 0 else { throw NetError(errno: errno, operation: "send fds") }
        batch.forEach { close($0) }
    }
    let socketsMade = residentBytes()
    var handles: [TaskletHandle<[UInt8]>] = []
    handles.reserveCapacity(count)
    for socket in sockets {
        handles.append(loop.spawn { try await socket.read(maxBytes: 1) })
    }
    while loop.stats.taskletsParked < count {
        loop.pump(budget: .milliseconds(50))
    }
    let parked = residentBytes()
    handles.forEach { $0.cancel() }
    while loop.stats.taskletsAlive > 0 { loop.pump(budget: .milliseconds(50)) }
    sockets.forEach { $0.close() }
    return ((parked - socketsMade) / count, (parked - before) / count)
}

/// One tasklet reads `bytes` from a plain thread writing with a blocking socket; returns MB/s.
func loopbackRead(bytes: Int) throws -> Int {
    let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
    let address = try listener.localAddress()
    let sender = startThread {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var storage = sockaddr_in()
        storage.sin_family = sa_family_t(AF_INET)
        storage.sin_port = address.port.bigEndian
        storage.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let chunk = [UInt8](repeating: 0x5A, count: 256 << 10)
        var sent = 0
        while sent < bytes {
            let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, bytes - sent), Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        close(fd)
    }
    let loop = try Loop()
    loop.disableWatchdog()
    let result = loop.spawn { () async throws -> (Int, Duration) in
        let connection = try await listener.accept()
        defer { connection.close() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
        defer { buffer.deallocate() }
        let start = ContinuousClock.now
        var received = 0
        while true {
            let n = try await connection.read(into: buffer)
            if n == 0 { break }
            received += n
        }
        return (received, start.duration(to: .now))
    }
    loop.run()
    pthread_join(sender, nil)
    listener.close()
    guard let outcome = result.result else { throw NetError(kind: .other, errno: 0, operation: "loopback read did not finish") }
    let (received, elapsed) = try outcome.get()
    guard received == bytes else { throw NetError(kind: .unexpectedEOF, errno: 0, operation: "loopback read") }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Int(Double(received) / seconds / 1e6)
}
