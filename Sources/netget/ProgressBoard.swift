import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// What the user sees on standard error while downloads run: on a terminal, one bar per
/// active download (bytes, percent, rate, ETA) redrawn in place, plus a total line when
/// several run at once; elsewhere, a plain line now and then; with -q, nothing but errors.
/// Loop-thread only.
final class ProgressBoard: @unchecked Sendable {  // used by the tasklets of one loop only
    enum Style { case terminal, plain, quiet }

    final class Entry {
        let label: String
        var total: UInt64?
        var received: UInt64 = 0
        var baseline: UInt64 = 0
        let started = ContinuousClock.now
        var rate = RateMeter()
        var active = true
        init(label: String) { self.label = label }
    }

    let style: Style
    private var entries: [Entry] = []
    private var messages: [String] = []
    private var linesDrawn = 0
    private var lastPlain = ContinuousClock.now
    private let showTotal: Bool

    init(quiet: Bool, showTotal: Bool) {
        if quiet {
            style = .quiet
        } else {
            style = isatty(2) == 1 ? .terminal : .plain
        }
        self.showTotal = showTotal
    }

    func add(_ label: String) -> Entry {
        let entry = Entry(label: label)
        entries.append(entry)
        return entry
    }

    /// A line that stays (a finished download, a retry notice): printed above the bars.
    func note(_ line: String) {
        guard style != .quiet else { return }
        messages.append(line)
        if style == .plain { flushPlain() }
    }

    /// An error line: printed even with -q.
    func error(_ line: String) {
        if style == .quiet {
            writeStandardError(line + "\n")
        } else {
            messages.append(line)
            if style == .plain { flushPlain() }
        }
    }

    /// Redraws (terminal) or prints a status line every few seconds (plain).
    func render(final: Bool = false) {
        for entry in entries where entry.active { entry.rate.sample(entry.received) }
        switch style {
        case .quiet:
            return
        case .plain:
            flushPlain()
            if final || ContinuousClock.now - lastPlain >= .seconds(2) {
                lastPlain = .now
                if !final {
                    for entry in entries where entry.active { writeStandardError(plainLine(entry) + "\n") }
                }
            }
        case .terminal:
            var text = linesDrawn > 0 ? "\u{1B}[\(linesDrawn)A" : ""
            for message in messages { text += "\u{1B}[2K" + message + "\n" }
            messages.removeAll()
            let active = final ? [] : entries.filter(\.active)
            var lines = active.map(barLine)
            if showTotal && !final && entries.count > 1 { lines.append(totalLine()) }
            for line in lines { text += "\u{1B}[2K" + line + "\n" }
            // Clear what the last frame drew below the new one.
            let stale = max(0, linesDrawn - lines.count)
            for _ in 0..<stale { text += "\u{1B}[2K\n" }
            if stale > 0 { text += "\u{1B}[\(stale)A" }
            linesDrawn = lines.count
            writeStandardError(text)
        }
    }

    private func flushPlain() {
        for message in messages { writeStandardError(message + "\n") }
        messages.removeAll()
    }

    private func barLine(_ entry: Entry) -> String {
        let width = terminalWidth()
        let rate = entry.rate.bytesPerSecond
        var percent = ""
        var bar = ""
        var eta = ""
        if let total = entry.total, total > 0 {
            let fraction = min(1, Double(entry.received) / Double(total))
            percent = String(format3(fraction * 100, decimals: 0)) + "%"
            let barWidth = max(10, min(30, width - 70))
            let filled = Int(fraction * Double(barWidth))
            bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "] "
            if rate > 0 { eta = " ETA " + formatDuration(Double(total - min(total, entry.received)) / rate) }
        }
        let size = formatBytes(entry.received) + (entry.total.map { " / " + formatBytes($0) } ?? "")
        let label = String(entry.label.prefix(max(8, width - 68)))
        return "\(label)  \(bar)\(percent.leftPadded(4))  \(size)  \(formatBytes(UInt64(rate)))/s\(eta)"
    }

    private func totalLine() -> String {
        let received = entries.reduce(UInt64(0)) { $0 + $1.received }
        let rate = entries.filter(\.active).reduce(0.0) { $0 + $1.rate.bytesPerSecond }
        let done = entries.filter { !$0.active }.count
        return "total: \(done)/\(entries.count) files, \(formatBytes(received)), \(formatBytes(UInt64(rate)))/s"
    }

    private func plainLine(_ entry: Entry) -> String {
        let percent = entry.total.map { $0 > 0 ? " \(format3(Double(entry.received) / Double($0) * 100, decimals: 0))%" : "" } ?? ""
        return
            "\(entry.label):\(percent) \(formatBytes(entry.received))\(entry.total.map { " of " + formatBytes($0) } ?? "") at \(formatBytes(UInt64(entry.rate.bytesPerSecond)))/s"
    }

    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 100
    }
}

/// Bytes per second over the last few seconds (an exponential moving average of 200 ms samples).
struct RateMeter {
    private var lastBytes: UInt64 = 0
    private var lastTime = ContinuousClock.now
    private(set) var bytesPerSecond: Double = 0
    private var primed = false

    mutating func sample(_ bytes: UInt64) {
        let now = ContinuousClock.now
        guard primed else {
            // The first sample only sets the baseline: a resumed download's stored bytes are no burst.
            primed = true
            lastBytes = bytes
            lastTime = now
            return
        }
        let elapsed = seconds(now - lastTime)
        guard elapsed >= 0.2 else { return }
        let instant = Double(bytes - min(bytes, lastBytes)) / elapsed
        bytesPerSecond = bytesPerSecond == 0 ? instant : bytesPerSecond * 0.6 + instant * 0.4
        lastBytes = bytes
        lastTime = now
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// 1.07 GB, 480.0 MB, 12.3 kB (decimal units, as curl and aria2 show rates).
func formatBytes(_ bytes: UInt64) -> String {
    let value = Double(bytes)
    if value >= 1e9 { return format3(value / 1e9, decimals: 2) + " GB" }
    if value >= 1e6 { return format3(value / 1e6, decimals: 1) + " MB" }
    if value >= 1e3 { return format3(value / 1e3, decimals: 1) + " kB" }
    return "\(bytes) B"
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds < 360_000 else { return "--:--" }
    let total = Int(seconds.rounded())
    return total >= 3600
        ? "\(total / 3600):\(twoDigits(total / 60 % 60)):\(twoDigits(total % 60))" : "\(total / 60):\(twoDigits(total % 60))"
}

private func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

func format3(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = decimals == 0 ? String(Int(rounded)) : String(rounded)
    if decimals > 0, let dot = text.firstIndex(of: ".") {
        let fraction = text[text.index(after: dot)...].count
        if fraction < decimals { text += String(repeating: "0", count: decimals - fraction) }
    }
    return text
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

/// write(2) to standard error: the C `stderr` global is not concurrency-safe in Swift 6.
func writeStandardError(_ text: String) { writeAll(2, text) }

func writeStandardOutput(_ text: String) { writeAll(1, text) }

/// Writes all of `text` to `fd`, as far as it accepts it.
private func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }  // non-empty here
        if n <= 0 { return }
        offset += n
    }
}
