/// Frame and net-layer times, in milliseconds, and their percentiles.
struct TimeSeries {
    private(set) var values: [Double] = []

    mutating func add(_ duration: Duration) {
        values.append(Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15)
    }

    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    var summary: String {
        "p50 \(format(percentile(0.5))) ms, p99 \(format(percentile(0.99))) ms, max \(format(percentile(1))) ms (\(values.count) frames)"
    }
}

func format(_ value: Double) -> String { String(Double(Int(value * 100)) / 100) }

/// Burns CPU for `milliseconds` (the game's simulated work for a frame).
func simulateWork(milliseconds: Double) {
    let end = ContinuousClock.now + .microseconds(Int64(milliseconds * 1000))
    var x: UInt64 = 1
    while ContinuousClock.now < end {
        for _ in 0..<200 { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407 }
    }
    if x == 42 { print("") }  // keeps the loop from being optimised away
}
