// http-load: the HTTP client's load figures, for scripts/bench-http.sh to set beside curl,
// wrk and aria2 in one sitting.
//
//   http-load download URL [--engine loop|workers] [--api read|chunks]   one body to memory (discarded)
//   http-load many URL --requests N --connections C [--engine E]   N GETs over C keep-alive connections
//
// Prints one line of `key=value` figures: bytes, seconds, MB/s or req/s, and the process's CPU
// time per request (user + system, from getrusage).
import HTTPClient
import NetCore
import Workers

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
guard arguments.count >= 2, ["download", "many"].contains(arguments[0]) else {
    writeError("usage: http-load download URL [--engine loop|workers]\n       http-load many URL --requests N --connections C [--engine E]\n")
    exit(2)
}
let mode = arguments[0]
let url = arguments[1]
guard let engine = HTTPEngine(rawValue: option("--engine") ?? "loop") else {
    writeError("http-load: --engine is loop or workers\n")
    exit(2)
}
let requests = Int(option("--requests") ?? "2000") ?? 2000
let connections = Int(option("--connections") ?? "50") ?? 50

let report = LoadReport()
let loop = try Loop()
let configuration = HTTPClientConfiguration(maxConnectionsPerHost: connections, readBufferSize: 256 << 10)
let workers = try WorkerPool(threads: max(2, connections), maxQueued: 4096, name: "http-load")
let client = Client(configuration: configuration, workers: workers)

switch mode {
case "download":
    loop.spawn(name: "download") {
        let start = ContinuousClock.now
        let response = try await client.get(url, engine: engine)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var total = 0
        if option("--api") == "chunks" {
            while let chunk = try await response.body.nextChunk() { total += chunk.count }  // arrays handed over, no copy
        } else {
            while case let n = try await response.body.read(into: buffer), n > 0 { total += n }  // into one reused buffer
        }
        report.finish(bytes: total, requests: 1, elapsed: ContinuousClock.now - start, status: response.status)
    }
default:
    loop.spawn(name: "many") {
        let start = ContinuousClock.now
        let next = Counter()
        let done = Channel<Int>(capacity: connections)
        for index in 0..<connections {
            Loop.current!.spawn(name: "worker \(index)") {  // spawned from a tasklet: there is a loop
                var bytes = 0
                while next.take() < requests {
                    let response = try await client.get(url, engine: engine)
                    bytes += try await response.body.collect(upTo: 64 << 20).count
                }
                try await done.send(bytes)
            }
        }
        var total = 0
        for _ in 0..<connections { total += try await done.receive() }
        report.finish(bytes: total, requests: requests, elapsed: ContinuousClock.now - start, status: 200)
    }
}
loop.run()
report.print(mode: mode, engine: engine)
