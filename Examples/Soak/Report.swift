/// The soak's outcome: counts, samples, checks, and their JSON, HTML and terminal forms.
struct SoakReport {
    var options: SoakOptions
    var seconds: Double = 0
    /// The faulty part only (after the clean baseline).
    var soakSeconds: Double = 0
    var downloadsCompleted = 0
    var downloadsByEngine: [String: Int] = [:]
    var bytesVerified: UInt64 = 0
    var bytesByEngine: [String: UInt64] = [:]
    var chunksVerified: UInt64 = 0
    var faultsInjected: [String: Int] = [:]
    var faultsRecovered: [String: Int] = [:]
    var retries = 0
    /// The median of `cleanRates`, the three clean single downloads before the faults.
    var cleanRate: Double = 0
    var cleanRates: [Double] = []
    var samples: [Sample] = []
    var failures: [String] = []
    var descriptorsAtStart = 0
    var descriptorsAtEnd = 0
    var rssAtWarmup = 0
    var rssMaxAfterWarmup = 0
    var rssAtEnd = 0
    /// The heap in use after the warm-up: its mean, and its least-squares growth over that time.
    var heapAtWarmup = 0
    var heapGrowth = 0
    var checks: [(name: String, passed: Bool, detail: String)] = []

    var passed: Bool { failures.isEmpty && checks.allSatisfy(\.passed) }
    /// Verified bytes per second while the faults ran (the baseline download not counted).
    var meanRate: Double { soakSeconds > 0 ? Double(bytesVerified) / soakSeconds : 0 }

    mutating func evaluate() {
        let warmup = options.effectiveWarmup
        let after = samples.filter { $0.second >= warmup }
        // A leak shows as a trend in the bytes malloc has handed out (heap in use), while the
        // chunks in flight at any one second are noise: the growth is the least-squares slope over
        // every sample after the warm-up, times that span. RSS is only bounded: glibc's arenas
        // keep freed pages, so it climbs to a plateau with no byte leaked.
        func mean(_ values: ArraySlice<Sample>) -> Int { values.isEmpty ? 0 : values.reduce(0) { $0 + $1.rssBytes } / values.count }
        rssAtWarmup = mean(after.prefix(10))
        rssAtEnd = mean(after.suffix(10))
        rssMaxAfterWarmup = after.map(\.rssBytes).max() ?? rssAtWarmup
        heapAtWarmup = after.isEmpty ? 0 : after.prefix(10).reduce(0) { $0 + $1.heapInUseBytes } / min(10, after.count)
        heapGrowth = Int(trendGrowth(after.map { ($0.second, Double($0.heapInUseBytes)) }))
        let heapSlack = Int(options.heapSlackMiB * 1_048_576)
        let rssSlack = Int(options.rssSlackMiB * 1_048_576)
        checks = [
            (
                "no byte wrong, lost, duplicated or reordered", failures.isEmpty,
                failures.first ?? "\(chunksVerified) chunks, \(bytesVerified) bytes checked"
            ),
            (
                "every injected fault recovered", faultsInjected == faultsRecovered,
                faultsInjected.keys.sorted().map { "\($0) \(faultsRecovered[$0] ?? 0)/\(faultsInjected[$0] ?? 0)" }.joined(separator: ", ")
            ),
            (
                "heap in use grows under \(options.heapSlackMiB) MiB after warm-up", heapGrowth <= heapSlack,
                "trend over \(after.count) s: \(heapGrowth >= 0 ? "+" : "")\(mib(heapGrowth)) from \(mib(heapAtWarmup))"
            ),
            (
                "RSS peak under \(options.rssSlackMiB) MiB above its warm-up level", rssMaxAfterWarmup - rssAtWarmup <= rssSlack,
                "mean of 10 s after warm-up \(mib(rssAtWarmup)), of the last 10 s \(mib(rssAtEnd)); peak \(mib(rssMaxAfterWarmup))"
            ),
            ("descriptors back to their start", descriptorsAtEnd <= descriptorsAtStart, "\(descriptorsAtStart) -> \(descriptorsAtEnd)"),
            (
                "throughput at least half the clean rate", meanRate * 2 >= cleanRate,
                "\(mbps(meanRate)) under faults vs \(mbps(cleanRate)) clean (median of \(cleanRates.map(mbps).joined(separator: ", ")))"
            ),
            (
                "both engines moved data", (downloadsByEngine["loop"] ?? 0) > 0 && (downloadsByEngine["workers"] ?? 0) > 0,
                "loop \(downloadsByEngine["loop"] ?? 0), workers \(downloadsByEngine["workers"] ?? 0) downloads"
            ),
        ]
    }

    var summary: String {
        var lines = [
            "soak: \(passed ? "PASSED" : "FAILED") after \(Int(seconds)) s (seed \(options.seed), fault rate \(options.faultRate))"
        ]
        lines.append(
            "  downloads: \(downloadsCompleted) (loop \(downloadsByEngine["loop"] ?? 0), workers \(downloadsByEngine["workers"] ?? 0)); bytes verified \(bytesVerified) (\(mbps(meanRate)) mean); chunks \(chunksVerified); retries \(retries)"
        )
        lines.append(
            "  faults injected / recovered: "
                + FaultKind.allCases.map { "\($0.rawValue) \(faultsRecovered[$0.rawValue] ?? 0)/\(faultsInjected[$0.rawValue] ?? 0)" }
                .joined(separator: ", "))
        lines.append(
            "  RSS: start \(mib(samples.first?.rssBytes ?? 0)), after warm-up \(mib(rssAtWarmup)), max after \(mib(rssMaxAfterWarmup)), end \(mib(samples.last?.rssBytes ?? 0)); descriptors \(descriptorsAtStart) -> \(descriptorsAtEnd)"
        )
        for check in checks { lines.append("  [\(check.passed ? "ok" : "FAIL")] \(check.name): \(check.detail)") }
        for failure in failures.prefix(5) { lines.append("  failure: \(failure)") }
        return lines.joined(separator: "\n")
    }

    var json: String {
        func dictionary(_ values: [String: Int]) -> String {
            "{" + values.keys.sorted().map { "\"\($0)\":\(values[$0] ?? 0)" }.joined(separator: ",") + "}"
        }
        let sampleRows = samples.map { s in
            "{\"t\":\(rounded(s.second)),\"loop_Bps\":\(Int(s.loopBytesPerSecond)),\"workers_Bps\":\(Int(s.workersBytesPerSecond)),\"rss\":\(s.rssBytes),\"heap\":\(s.heapInUseBytes),\"fds\":\(s.openDescriptors),\"tasklets\":\(s.taskletsAlive),\"parked\":\(s.taskletsParked),\"queue\":\(s.workerQueueDepth)}"
        }
        let checkRows = checks.map { "{\"name\":\(quoted($0.name)),\"passed\":\($0.passed),\"detail\":\(quoted($0.detail))}" }
        return """
            {"passed":\(passed),"seconds":\(rounded(seconds)),"seed":\(options.seed),"fault_rate":\(options.faultRate),\
            "downloads":\(downloadsCompleted),"downloads_by_engine":\(dictionary(downloadsByEngine)),"bytes_verified":\(bytesVerified),\
            "chunks_verified":\(chunksVerified),"retries":\(retries),"mean_rate_Bps":\(Int(meanRate)),"clean_rate_Bps":\(Int(cleanRate)),\
            "faults_injected":\(dictionary(faultsInjected)),"faults_recovered":\(dictionary(faultsRecovered)),\
            "rss_at_warmup":\(rssAtWarmup),"rss_at_end":\(rssAtEnd),"rss_max_after_warmup":\(rssMaxAfterWarmup),"heap_at_warmup":\(heapAtWarmup),"heap_growth":\(heapGrowth),"fds_start":\(descriptorsAtStart),"fds_end":\(descriptorsAtEnd),\
            "failures":[\(failures.map(quoted).joined(separator: ","))],"checks":[\(checkRows.joined(separator: ","))],\
            "samples":[\(sampleRows.joined(separator: ","))]}
            """
    }

    /// A page that needs nothing from the network: inline CSS and SVG charts.
    var html: String {
        let throughput = chart(
            title: "Throughput (MB/s)",
            series: [
                ("loop engine", "#1f77b4", samples.map { ($0.second, $0.loopBytesPerSecond / 1e6) }),
                ("workers engine", "#ff7f0e", samples.map { ($0.second, $0.workersBytesPerSecond / 1e6) }),
            ])
        let rss = chart(
            title: "Memory (MiB)",
            series: [
                ("RSS", "#2ca02c", samples.map { ($0.second, Double($0.rssBytes) / 1_048_576) }),
                ("heap in use", "#9467bd", samples.map { ($0.second, Double($0.heapInUseBytes) / 1_048_576) }),
            ])
        let fds = chart(
            title: "Open descriptors", series: [("descriptors", "#d62728", samples.map { ($0.second, Double($0.openDescriptors)) })])
        let rows = checks.map { "<tr><td>\($0.passed ? "✔" : "✘")</td><td>\(escape($0.name))</td><td>\(escape($0.detail))</td></tr>" }
            .joined()
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>StacklessNet soak report</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:960px}td{padding:2px 8px}pre{background:#f4f4f4;padding:1em}</style></head>
            <body><h1>Soak \(passed ? "passed" : "FAILED")</h1><pre>\(escape(summary))</pre>
            <table>\(rows)</table>\(throughput)\(rss)\(fds)</body></html>
            """
    }

    private func chart(title: String, series: [(String, String, [(Double, Double)])]) -> String {
        let width = 900.0
        let height = 220.0
        let left = 60.0
        let bottom = 30.0
        let maxX = max(1, series.flatMap { $0.2.map(\.0) }.max() ?? 1)
        let maxY = max(1e-9, series.flatMap { $0.2.map(\.1) }.max() ?? 1) * 1.1
        var svg = "<h2>\(escape(title))</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\">"
        svg += "<rect x=\"\(left)\" y=\"0\" width=\"\(width - left)\" height=\"\(height - bottom)\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
        for tick in 0...4 {
            let y = (height - bottom) * (1 - Double(tick) / 4)
            svg += "<text x=\"2\" y=\"\(rounded(y + 4))\" font-size=\"11\">\(rounded(maxY * Double(tick) / 4))</text>"
        }
        svg +=
            "<text x=\"\(left)\" y=\"\(height - 8)\" font-size=\"11\">0 s</text><text x=\"\(width - 50)\" y=\"\(height - 8)\" font-size=\"11\">\(Int(maxX)) s</text>"
        for (index, (name, color, points)) in series.enumerated() {
            let path = points.map { "\(rounded(left + $0.0 / maxX * (width - left))),\(rounded((height - bottom) * (1 - $0.1 / maxY)))" }
                .joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>"
            svg += "<text x=\"\(left + 10 + Double(index) * 160)\" y=\"14\" font-size=\"12\" fill=\"\(color)\">\(escape(name))</text>"
        }
        return svg + "</svg>"
    }
}

func mib(_ bytes: Int) -> String { "\(rounded(Double(bytes) / 1_048_576)) MiB" }
func mbps(_ bytesPerSecond: Double) -> String { "\(rounded(bytesPerSecond / 1e6)) MB/s" }
func rounded(_ value: Double) -> String { String(Double(Int(value * 10)) / 10) }

func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: if scalar.value < 0x20 { out += " " } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

func escape(_ text: String) -> String {
    text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
}

/// The least-squares line through `points` (seconds, value): its slope times the span of the
/// seconds, i.e. how much the value grew from the first point to the last by its trend. 0 for
/// fewer than two points.
func trendGrowth(_ points: [(Double, Double)]) -> Double {
    guard points.count >= 2, let first = points.first?.0, let last = points.last?.0, last > first else { return 0 }
    let n = Double(points.count)
    let meanT = points.reduce(0) { $0 + $1.0 } / n
    let meanV = points.reduce(0) { $0 + $1.1 } / n
    let covariance = points.reduce(0) { $0 + ($1.0 - meanT) * ($1.1 - meanV) }
    let variance = points.reduce(0) { $0 + ($1.0 - meanT) * ($1.0 - meanT) }
    return variance > 0 ? covariance / variance * (last - first) : 0
}
