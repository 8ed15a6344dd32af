import GameNet
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// `key=value` arguments, the same syntax as Benchmarks/enet/enet-bench.c takes.
struct BenchArguments {
    private var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) {
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else { continue }
            values[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
        }
    }

    func int(_ key: String, _ fallback: Int) -> Int { values[key].flatMap { Int($0) } ?? fallback }
    func double(_ key: String, _ fallback: Double) -> Double { values[key].flatMap { Double($0) } ?? fallback }
    func string(_ key: String, _ fallback: String) -> String { values[key] ?? fallback }
}

/// CPU seconds this process has used (user + system), from getrusage.
func cpuMicroseconds() -> Int64 {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Int64(usage.ru_utime.tv_sec) * 1_000_000 + Int64(usage.ru_utime.tv_usec)
    let system = Int64(usage.ru_stime.tv_sec) * 1_000_000 + Int64(usage.ru_stime.tv_usec)
    return user + system
}

/// The resident set now, from /proc/self/statm (pages times the page size).
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    let fields = String(decoding: buffer[0..<max(0, n)], as: UTF8.self).split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Bytes malloc has handed out and not had back (glibc's mallinfo2, through NetCore).
func heapBytes() -> Int { Footprint.heapInUseBytes() }

/// Writes a line to stdout at once (unbuffered: the script waits for "ready").
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// A message of `size` bytes: its send time (CLOCK_MONOTONIC ns, shared by every process on the
/// host) and its index, little-endian, then bytes that depend on both (checked on delivery).
func benchMessage(index: UInt32, size: Int, sentNs: Int64) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: size)
    for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: UInt64(bitPattern: sentNs) >> UInt64(8 * i)) }
    for i in 0..<4 { bytes[8 + i] = UInt8(truncatingIfNeeded: index >> UInt32(8 * i)) }
    for i in 12..<size { bytes[i] = UInt8(truncatingIfNeeded: Int(index) &+ i) }
    return bytes
}

/// The send time and index of a bench message, or nil when its filler bytes are wrong.
func parseBenchMessage(_ bytes: [UInt8]) -> (index: UInt32, sentNs: Int64)? {
    guard bytes.count >= 12 else { return nil }
    var sent: UInt64 = 0
    for i in 0..<8 { sent |= UInt64(bytes[i]) << UInt64(8 * i) }
    var index: UInt32 = 0
    for i in 0..<4 { index |= UInt32(bytes[8 + i]) << UInt32(8 * i) }
    for i in 12..<bytes.count where bytes[i] != UInt8(truncatingIfNeeded: Int(index) &+ i) { return nil }
    return (index, Int64(bitPattern: sent))
}

/// One `RESULT key=value ...` line for the script.
func report(_ fields: [(String, String)]) {
    say("RESULT " + fields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
}

func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func milliseconds(_ ns: Int64) -> String { String(Double(ns / 1_000) / 1_000) }

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `UDPDriver.pump`, shorter.
nonisolated(nonsending) func pump(
    _ machine: some DatagramMachine, on socket: UDPSocket, untilNs: Int64, _ handle: (GameNetEvent) throws -> Void
) async throws {
    try await UDPDriver.pump(machine, on: socket, untilNs: untilNs, handle)
}

/// Set once by main before any tasklet runs, read after on the same (main) thread: `encrypt=1`
/// turns on ChaCha20-Poly1305 with a pre-shared key (both ends pass it).
nonisolated(unsafe) var benchEncrypted = false
