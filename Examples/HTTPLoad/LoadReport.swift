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

/// The figures of one run, written on the loop thread and printed after `run()` returned.
final class LoadReport: @unchecked Sendable {  // see above: `run()` orders the accesses
    private var bytes = 0
    private var requests = 0
    private var elapsed = Duration.zero
    private var status = 0

    func finish(bytes: Int, requests: Int, elapsed: Duration, status: Int) {
        self.bytes = bytes
        self.requests = requests
        self.elapsed = elapsed
        self.status = status
    }

    func print(mode: String, engine: Any) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard requests > 0, seconds > 0 else {
            writeError("http-load: nothing finished (status \(status))\n")
            exit(1)
        }
        let perRequest = cpu / Double(requests) * 1e6
        Swift.print("mode=\(mode) engine=\(engine) status=\(status) bytes=\(bytes) seconds=\(seconds) "
            + "mbps=\(Double(bytes) / seconds / 1e6) rps=\(Double(requests) / seconds) cpu_us_per_request=\(perRequest)")
    }
}

/// A line on standard error. write(2), not fputs(stderr): the C global is not concurrency-safe in Swift 6.
func writeError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
