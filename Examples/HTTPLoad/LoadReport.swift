#if canImport(Glibc)
    import Glibc
#endif

/// Hands out request numbers to the tasklets of one loop.
final class Counter: @unchecked Sendable {  // used on one loop's thread only
    private var value = 0
    func take() -> Int {
        defer { value += 1 }
        return value
    }
}

struct RunFigures {
    var bytes: Int
    var requests: Int
    var elapsed: Duration
    var cpuSeconds: Double

    var seconds: Double { Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
    var megabytesPerSecond: Double { Double(bytes) / seconds / 1e6 }
    var requestsPerSecond: Double { Double(requests) / seconds }
    var cpuMicrosecondsPerRequest: Double { cpuSeconds / Double(requests) * 1e6 }
}

/// The runs' figures, written on the loop thread and printed after `run()` returned.
final class RunResults: @unchecked Sendable {  // see above: `run()` orders the accesses
    private var runs: [RunFigures] = []

    func add(_ figures: RunFigures) { runs.append(figures) }

    func print(mode: String, engine: String) {
        guard !runs.isEmpty else {
            writeError("http-load: no run finished\n")
            exit(1)
        }
        func line(_ label: String, _ mbps: Double, _ rps: Double, _ cpu: Double, _ bytes: Int) -> String {
            "\(label) mode=\(mode) engine=\(engine) bytes=\(bytes) mbps=\(Int(mbps)) rps=\(Int(rps)) cpu_us_per_request=\(Double(Int(cpu * 10)) / 10)"
        }
        for (index, run) in runs.enumerated() {
            Swift.print(line("run\(index + 1)", run.megabytesPerSecond, run.requestsPerSecond, run.cpuMicrosecondsPerRequest, run.bytes))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        Swift.print(
            line(
                "median", median(runs.map(\.megabytesPerSecond)), median(runs.map(\.requestsPerSecond)),
                median(runs.map(\.cpuMicrosecondsPerRequest)), runs[0].bytes))
    }
}

/// User plus system CPU time of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// A line on standard error. write(2), not fputs(stderr): the C global is not concurrency-safe in Swift 6.
func writeError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
