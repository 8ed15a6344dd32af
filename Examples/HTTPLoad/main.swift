// http-load: the HTTP client's load figures, for scripts/bench-http.sh to set beside curl,
// wrk, aria2 and the Python anchors in one sitting.
//
//   http-load download URL [--engine loop|workers] [--api read|chunks] [--runs N]
//       one body to memory, discarded (read: into one reused buffer; chunks: arrays handed over)
//   http-load many URL [--requests 2000] [--connections 50] [--engine E] [--api read|chunks] [--runs N]
//       N GETs over C keep-alive connections, each reading into its own buffer (as wrk and
//       the anchors' small_py.py do), or with `--api chunks` taking the body's arrays as they
//       come (as Benchmarks/AHCBench takes AsyncHTTPClient's ByteBuffers)
//   --from tasklet|task: call the client from tasklets of a loop (the default) or from plain
//       tasks (a task group; each request hops to the client's "http-client" loop thread)
//
// Each run uses a new client (fresh connections, as the anchors do) after one warm-up run.
// Prints one `key=value` line per run and a `median` line: MB/s, req/s, and client CPU per
// request (user + system from getrusage, over the run only).
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
guard arguments.count >= 2, ["download", "many"].contains(arguments[0]),
    let engine = HTTPEngine(rawValue: option("--engine") ?? "loop")
else {
    writeError(
        "usage: http-load download|many URL [--engine loop|workers] [--api read|chunks] [--requests N] [--connections C] [--runs N] [--from tasklet|task]\n"
    )
    exit(2)
}
let mode = arguments[0]
let url = arguments[1]
let requests = Int(option("--requests") ?? "2000") ?? 2000
let connections = Int(option("--connections") ?? "50") ?? 50
let runs = Int(option("--runs") ?? "1") ?? 1
let useChunks = option("--api") == "chunks"
let fromTask = option("--from") == "task"

let loop = try Loop()
// The workers engine needs a thread per connection in flight; the loop engine none.
let workers =
    engine == .workers ? try WorkerPool(threads: mode == "many" ? max(2, connections) : 2, maxQueued: 4096, name: "http-load") : nil
let results = RunResults()

if fromTask {
    let setup = LoadSetup(
        mode: mode, url: url, engine: engine, requests: requests, connections: connections, runs: runs, workers: workers,
        useChunks: useChunks)
    try runFromTask(setup, results: results)
    results.print(mode: mode + "-from-task", engine: engine.rawValue)
    exit(0)
}

loop.spawn(name: "http-load") {
    for run in 0...runs {  // run 0 warms up
        let client = Client(configuration: HTTPClientConfiguration(maxConnectionsPerHost: connections), workers: workers)
        let cpuBefore = processCPUSeconds()
        let start = ContinuousClock.now
        let bytes =
            mode == "download"
            ? try await download(url, client: client, engine: engine, chunks: useChunks)
            : try await many(url, client: client, engine: engine, requests: requests, connections: connections, chunks: useChunks)
        let figures = RunFigures(
            bytes: bytes, requests: mode == "download" ? 1 : requests,
            elapsed: ContinuousClock.now - start, cpuSeconds: processCPUSeconds() - cpuBefore)
        client.closeIdleConnections()
        if run > 0 { results.add(figures) }
    }
}
loop.run()
results.print(mode: mode, engine: engine.rawValue)
