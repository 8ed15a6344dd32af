// ahc-bench: AsyncHTTPClient on the workloads of the project's http-load, printing the same
// `key=value` lines (one per run, then a `median` line), so one parser reads both.
//
//   ahc-bench download URL [--runs N] [--threads T]
//       one body streamed and discarded: mbps (1e6 B/s) and cpu_ms_per_gib
//   ahc-bench many URL [--requests 2000] [--connections 50] [--runs N] [--threads T]
//       N GETs over C keep-alive connections (C tasks, each its share in turn): rps and
//       cpu_us_per_request
//
// Each run uses a new HTTPClient (fresh connections, as http-load does) after one warm-up run.
// --threads is SwiftNIO's event-loop count (default 1: one loop, as the project's Client).
import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, default fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else {
        return fallback
    }
    return value
}
guard arguments.count >= 2, ["download", "many"].contains(arguments[0]) else {
    print("usage: ahc-bench download|many URL [--requests N] [--connections C] [--runs N] [--threads T]")
    exit(2)
}
let mode = arguments[0]
let url = arguments[1]
let runs = option("--runs", default: 1)
let threads = option("--threads", default: 1)
let connections = option("--connections", default: 50)
let requests = option("--requests", default: 2000)

/// User plus system CPU seconds of the whole process (every NIO thread included).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

struct StatusError: Error { let code: UInt }

/// One GET whose body is counted and dropped; throws on a status other than 200.
func fetch(_ client: HTTPClient) async throws -> Int {
    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(600))
    guard response.status.code == 200 else { throw StatusError(code: response.status.code) }
    var bytes = 0
    for try await buffer in response.body { bytes += buffer.readableBytes }
    return bytes
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

let loops = MultiThreadedEventLoopGroup(numberOfThreads: threads)
var configuration = HTTPClient.Configuration()
configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
configuration.decompression = .disabled
configuration.httpVersion = .http1Only

var rates: [Double] = []
var cpuFigures: [Double] = []
let perConnection = max(1, requests / connections)
for run in 0...runs {  // run 0 warms up
    let client = HTTPClient(eventLoopGroupProvider: .shared(loops), configuration: configuration)
    let cpuBefore = processCPUSeconds()
    let start = ContinuousClock.now
    let bytes: Int
    if mode == "download" {
        bytes = try await fetch(client)
    } else {
        bytes = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for _ in 0..<connections {
                tasks.addTask {
                    var sum = 0
                    for _ in 0..<perConnection { sum += try await fetch(client) }
                    return sum
                }
            }
            var total = 0
            for try await share in tasks { total += share }
            return total
        }
    }
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let cpu = processCPUSeconds() - cpuBefore
    // Top-level code picks the EventLoopFuture overload; wait on it.
    try await client.shutdown().get()
    if run == 0 { continue }
    if mode == "download" {
        let rate = Double(bytes) / seconds / 1e6
        let cpuPerGiB = cpu * 1000 / (Double(bytes) / Double(1 << 30))
        rates.append(rate)
        cpuFigures.append(cpuPerGiB)
        print("run=\(run) bytes=\(bytes) mbps=\(rate) cpu_ms_per_gib=\(cpuPerGiB)")
    } else {
        let done = Double(perConnection * connections)
        let rate = done / seconds
        let cpuPerRequest = cpu * 1e6 / done
        rates.append(rate)
        cpuFigures.append(cpuPerRequest)
        print("run=\(run) bytes=\(bytes) rps=\(rate) cpu_us_per_request=\(cpuPerRequest)")
    }
}
let rateKey = mode == "download" ? "mbps" : "rps"
let cpuKey = mode == "download" ? "cpu_ms_per_gib" : "cpu_us_per_request"
print("median threads=\(threads) \(rateKey)=\(median(rates)) \(cpuKey)=\(median(cpuFigures))")
try await loops.shutdownGracefully()
