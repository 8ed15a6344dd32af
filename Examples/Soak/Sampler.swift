import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// One second of the soak.
struct Sample: Sendable {
    var second: Double
    var loopBytesPerSecond: Double
    var workersBytesPerSecond: Double
    var rssBytes: Int
    /// Bytes malloc has handed out and not had back (all arenas, mmapped blocks included).
    var heapInUseBytes: Int
    var openDescriptors: Int
    var taskletsAlive: Int
    var taskletsParked: Int
    var workerQueueDepth: Int
}

/// The process's resident memory (/proc/self/statm).
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { return 0 }
    let fields = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Open descriptors of this process (entries of /proc/self/fd, less the one used to list them).
func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { count += 1 }
    }
    return count - 1  // the directory stream's own descriptor
}

/// Counters the downloads bump as bytes pass (loop thread only), read by the sampler.
final class ThroughputCounters: @unchecked Sendable {  // the net loop's thread only
    var loopBytes: UInt64 = 0
    var workersBytes: UInt64 = 0
}

/// The verifying loop's stats, published by a tasklet on that loop for the sampler on the other.
final class RemoteLoopStats: @unchecked Sendable {  // guarded by `mutex`
    private let mutex = PThreadMutex()
    private var alive = 0
    private var parked = 0

    func publish(_ stats: LoopStats) {
        mutex.withLock {
            alive = stats.taskletsAlive
            parked = stats.taskletsParked
        }
    }
    var current: (alive: Int, parked: Int) { mutex.withLock { (alive, parked) } }
}

/// What each open descriptor is (its /proc/self/fd link), to say which ones leaked.
func openDescriptorNames() -> [String] {
    guard let directory = opendir("/proc/self/fd") else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        guard name != "." && name != ".." else { continue }
        var target = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/self/fd/" + name, &target, target.count - 1)
        names.append("\(name)=\(n > 0 ? String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?")")
    }
    return names
}
