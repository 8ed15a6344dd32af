import NetCore
import TestSupport
import Testing

@testable import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// `WorkerPool(cpus:)`: every worker starts on the CPUs asked for, and a set that cannot be
/// honoured fails `init` before any worker runs.
@Suite struct WorkerPoolPlacementTests {
    /// What one job saw of the worker thread it ran on.
    struct Seen: Sendable, Equatable {
        var threadID: Int32
        var cpu: Int?
        var allowed: [Int]
    }

    @Test func everyWorkerRunsOnTheCPUAskedFor() throws {
        for cpu in CPUPlacement.allowedCPUs().prefix(4) {
            let name = uniquePoolName()
            let pool = try WorkerPool(threads: 3, name: name, cpus: [cpu])
            defer { pool.shutdown() }
            #expect(pool.cpus == [cpu])
            let seen = try runOneJobOnEachWorker(of: pool)
            #expect(Set(seen.map(\.threadID)) == Set(workerIDs(of: pool)), "one job ran on each worker")
            for job in seen {
                #expect(job.cpu == cpu)
                #expect(job.allowed == [cpu])
            }
            // The detector the refusal tests rely on sees these threads.
            #expect(threadNames().filter { $0.hasPrefix(name) }.count == 3)
        }
    }

    @Test func withoutCPUsTheWorkersRunWhereTheirCreatorMay() throws {
        let pool = try WorkerPool(threads: 2, name: uniquePoolName())
        defer { pool.shutdown() }
        #expect(pool.cpus == nil)
        let allowed = CPUPlacement.allowedCPUs()
        for job in try runOneJobOnEachWorker(of: pool) { #expect(job.allowed == allowed) }
    }

    @Test(
        arguments: [
            ([], CPUPlacementError.emptySet),
            ([-1], .cpuOutOfRange(cpu: -1, limit: 1024)),
            ([0, 4096], .cpuOutOfRange(cpu: 4096, limit: 1024)),
            ([1023], .kernelRefused(cpus: [1023], errno: EINVAL)),
        ] as [([Int], CPUPlacementError)])
    func aSetThatCannotBeHonouredFailsInitAndStartsNoThread(cpus: [Int], expected: CPUPlacementError) throws {
        try #require(!CPUPlacement.allowedCPUs().contains(1023), "CPU 1023 must be one this process may not use")
        let name = uniquePoolName()
        #expect(throws: WorkerPoolError.placementFailed(expected)) {
            _ = try WorkerPool(threads: 3, name: name, cpus: cpus)
        }
        #expect(threadNames().filter { $0.hasPrefix(name) }.isEmpty, "no worker thread of the pool is alive")
    }

    @Test func thePlacementErrorSaysItIsAboutTheWorkers() {
        let error = WorkerPoolError.placementFailed(.kernelRefused(cpus: [1023], errno: EINVAL))
        #expect(error.description.hasPrefix("could not place the worker threads: the kernel refused to run the thread on CPU 1023"))
    }
}

/// A pool name no other test uses, short enough to survive the kernel's 15-byte thread names
/// with the worker's index appended.
private func uniquePoolName() -> String {
    "plc\(UInt32.random(in: 10_000...99_999))-"
}

/// Runs one job on each of the pool's workers: every job waits at a barrier until all have
/// started, so no worker can take two. - Returns: what each job saw.
private func runOneJobOnEachWorker(of pool: WorkerPool) throws -> [WorkerPoolPlacementTests.Seen] {
    let barrier = Barrier(parties: pool.threadCount)
    let results = (0..<pool.threadCount).map { _ in Box<Result<WorkerPoolPlacementTests.Seen, any Error>?>(nil) }
    let callers = results.map { slot in
        TestThread.start {
            slot.value = Result {
                try pool.call("where am I") { _ in
                    try barrier.waitBlocking(timeout: .seconds(10))
                    return WorkerPoolPlacementTests.Seen(
                        threadID: currentThreadID(), cpu: CPUPlacement.currentCPU,
                        allowed: CPUPlacement.allowedCPUs())
                }
            }
        }
    }
    for caller in callers { caller.join() }
    return try results.map { slot in
        guard let result = slot.value else { throw JobFailure() }
        return try result.get()
    }
}

/// The calling thread's kernel id, from /proc/thread-self ("PID/task/TID"); -1 if unreadable.
private func currentThreadID() -> Int32 {
    var bytes = [CChar](repeating: 0, count: 64)
    let count = readlink("/proc/thread-self", &bytes, bytes.count - 1)
    guard count > 0 else { return -1 }
    let path = String(decoding: bytes[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return path.split(separator: "/").last.flatMap { Int32($0) } ?? -1
}

/// The names (comm) of this process's live threads.
private func threadNames() -> [String] {
    guard let directory = opendir("/proc/self/task") else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard tid.first?.isNumber == true else { continue }
        let fd = open("/proc/self/task/\(tid)/comm", O_RDONLY)
        guard fd >= 0 else { continue }  // the thread ended meanwhile
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &bytes, bytes.count)
        close(fd)
        if count > 0 { names.append(String(decoding: bytes[0..<count], as: UTF8.self).trimmingNewline) }
    }
    return names
}

extension String {
    fileprivate var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
