// A blocking download on the worker pool while tasklets keep the loop busy: the server and a
// ticking counter run as tasklets; the download is plain blocking socket code on a worker
// thread, handed over with callAsync.   swift run blocking-download
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

let size = 64 << 20
let loop = try Loop()
let pool = try WorkerPool(threads: 2)
let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
let port = listener.port

loop.spawn(name: "server") {  // a tasklet serves 64 MiB
    let connection = try await listener.accept()
    let chunk = [UInt8](repeating: 0x5A, count: 64 << 10)
    for index in 0..<(size / chunk.count) {
        try await connection.write(chunk)
        if index % 8 == 0 { await Tasklet.yield() }  // a fast socket never parks: share the loop
    }
    connection.close()
    listener.close()
}
let ticks = TickCounter()
let ticker = loop.spawn(name: "ticker") {  // a tasklet ticks on every turn of the loop
    while !Task.isCancelled {
        ticks.count += 1
        await Tasklet.yield()
    }
}
loop.spawn(name: "downloader") {
    let start = ContinuousClock.now
    let received = try await pool.callAsync("blocking download") { _ in
        try blockingDownload(port: port)  // blocks a worker thread, not the loop
    }
    ticker.cancel()
    print(
        "downloaded \(received) bytes with a blocking socket on a worker in \(start.duration(to: .now));"
            + " meanwhile the loop served it and ticked \(ticks.count) times")
}
loop.run()
pool.shutdown()
