// HTTP response parser throughput, in bytes of input per second, fed 64 KiB at a time as a
// socket would deliver them. Issue 4's figures: >= 2 GB/s on a Content-Length body through
// `feed`, >= 1 GB/s on a chunked one (16 KiB chunks, nginx's size).
import Benchmark
import HTTPClient

func httpParserBenchmarks() {
    let bodySize = 64 << 20
    let lengthMessage =
        Array("HTTP/1.1 200 OK\r\nContent-Length: \(bodySize)\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        + [UInt8](repeating: 0x61, count: bodySize)
    let chunkedMessage = chunkedResponse(bodySize: bodySize, chunkSize: 16 << 10)
    let metric = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)

    for (name, message) in [("Content-Length", lengthMessage), ("chunked 16 KiB", chunkedMessage)] {
        Benchmark(
            "parser throughput, 64 MiB \(name) body",
            configuration: .init(metrics: [.wallClock, metric], warmupIterations: 1, maxIterations: 10)
        ) { benchmark in
            let start = ContinuousClock.now
            var parser = HTTPResponseParser()
            var bodyBytes = 0
            var offset = 0
            while offset < message.count {
                let end = min(offset + (64 << 10), message.count)
                for event in try parser.feed(message[offset..<end]) {
                    if case .body(let bytes) = event { bodyBytes += bytes.count }
                }
                offset = end
            }
            precondition(bodyBytes == bodySize && parser.isComplete, "the parser lost bytes")
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            benchmark.measurement(metric, Int(Double(message.count) / seconds / 1e6))
        }
    }
}

private func chunkedResponse(bodySize: Int, chunkSize: Int) -> [UInt8] {
    var message = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    message.reserveCapacity(bodySize + bodySize / chunkSize * 12 + 64)
    var left = bodySize
    while left > 0 {
        let size = min(chunkSize, left)
        message += Array((String(size, radix: 16) + "\r\n").utf8)
        message += [UInt8](repeating: 0x62, count: size)
        message += Array("\r\n".utf8)
        left -= size
    }
    message += Array("0\r\n\r\n".utf8)
    return message
}
