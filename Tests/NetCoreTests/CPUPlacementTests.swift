import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// Each test places a fresh thread, never the test's own: a pinned test thread would carry its
/// placement into whatever test runs on it next.
@Suite struct CPUPlacementTests {
    /// What a thread saw of its own placement: through the API and through the kernel's own file.
    struct Seen: Sendable, Equatable {
        var allowed: [Int]
        var current: Int?
        var kernelList: String?
    }

    static func see() -> Seen {
        Seen(
            allowed: CPUPlacement.allowedCPUs(), current: CPUPlacement.currentCPU,
            kernelList: allowedListFromProc())
    }

    @Test func pinningAThreadKeepsItOnThatCPU() throws {
        let allowed = CPUPlacement.allowedCPUs()
        try #require(!allowed.isEmpty, "the test thread may run somewhere")
        #expect(allowed == allowed.sorted())
        for cpu in allowed.prefix(4) {
            let seen = try onFreshThread { () throws(CPUPlacementError) -> Seen in
                try CPUPlacement.pinCurrentThread(to: [cpu])
                return Self.see()
            }
            #expect(seen == Seen(allowed: [cpu], current: cpu, kernelList: "\(cpu)"))
        }
    }

    @Test func allowedCPUsAgreesWithTheKernel() throws {
        let seen = try onFreshThread { () throws(CPUPlacementError) -> Seen in Self.see() }
        #expect(seen.kernelList == Self.listString(seen.allowed))
        #expect(seen.current.map { seen.allowed.contains($0) } == true)
    }

    @Test(
        arguments: [
            ([], CPUPlacementError.emptySet),
            ([-1], .cpuOutOfRange(cpu: -1, limit: 1024)),
            ([0, 1024], .cpuOutOfRange(cpu: 1024, limit: 1024)),
            ([1023], .kernelRefused(cpus: [1023], errno: EINVAL)),
        ] as [([Int], CPUPlacementError)])
    func aBadSetIsRefusedWithItsReasonAndChangesNothing(cpus: [Int], expected: CPUPlacementError) throws {
        #expect(CPUPlacement.cpuNumberLimit == 1024)
        try #require(!CPUPlacement.allowedCPUs().contains(1023), "CPU 1023 must be one this process may not use")
        let before = CPUPlacement.allowedCPUs()
        let (error, after) = try onFreshThread { () throws(CPUPlacementError) -> (CPUPlacementError?, [Int]) in
            do throws(CPUPlacementError) {
                try CPUPlacement.pinCurrentThread(to: cpus)
                return (nil, CPUPlacement.allowedCPUs())
            } catch {
                return (error, CPUPlacement.allowedCPUs())
            }
        }
        #expect(error == expected)
        #expect(after == before, "a refused set leaves the thread where it was")
    }

    @Test func theErrorsSayWhatWentWrong() {
        #expect(CPUPlacementError.emptySet.description.contains("no CPU given"))
        #expect(
            CPUPlacementError.cpuOutOfRange(cpu: 1024, limit: 1024).description
                == "CPU 1024 does not exist: CPU numbers go from 0 to 1023")
        let refused = CPUPlacementError.kernelRefused(cpus: [1023], errno: EINVAL).description
        #expect(refused.hasPrefix("the kernel refused to run the thread on CPU 1023 (errno 22: Invalid argument)"))
        #expect(refused.contains("online and allowed"))
    }

    @Test func aThreadStartedWithCPUsInItsAttributesRunsThereOnly() throws {
        for cpu in CPUPlacement.allowedCPUs().prefix(4) {
            let (code, seen) = try startThread(cpus: [cpu])
            #expect(code == 0)
            #expect(seen == Seen(allowed: [cpu], current: cpu, kernelList: "\(cpu)"))
        }
    }

    @Test func aThreadWhoseCPUsTheKernelRefusesNeverStarts() throws {
        let (code, seen) = try startThread(cpus: [1023])
        #expect(code == EINVAL)
        #expect(seen == nil, "the thread's body never ran")
        #expect(CPUPlacement.threadStartError(code, cpus: [1023]) == .kernelRefused(cpus: [1023], errno: EINVAL))
        #expect(CPUPlacement.threadStartError(EAGAIN, cpus: [1023]) == nil)
    }

    @Test func attributesRefuseABadSetBeforeAnyThreadExists() {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        #expect(throws: CPUPlacementError.emptySet) { try CPUPlacement.setCPUs([], on: &attributes) }
        #expect(throws: CPUPlacementError.cpuOutOfRange(cpu: -3, limit: 1024)) {
            try CPUPlacement.setCPUs([0, -3], on: &attributes)
        }
    }

    static func listString(_ cpus: [Int]) -> String {
        // The kernel writes ranges ("0-3,6"); build the same from the sorted list.
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count && cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}

/// The calling thread's `Cpus_allowed_list` from /proc/thread-self/status: the kernel's own view,
/// independent of `CPUPlacement.allowedCPUs()`.
func allowedListFromProc() -> String? {
    let fd = open("/proc/thread-self/status", O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 16 << 10)
    let count = read(fd, &bytes, bytes.count)
    guard count > 0 else { return nil }
    let text = String(decoding: bytes[0..<count], as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
        return String(line.dropFirst("Cpus_allowed_list:".count).filter { $0 != " " && $0 != "\t" })
    }
    return nil
}

/// Runs `body` on a new OS thread and returns its result (or rethrows its error).
func onFreshThread<T: Sendable>(_ body: @escaping @Sendable () throws(CPUPlacementError) -> T) throws -> T {
    let result = Box<Result<T, CPUPlacementError>?>(nil)
    let thread = TestThread.start {
        do throws(CPUPlacementError) { result.value = .success(try body()) } catch { result.value = .failure(error) }
    }
    thread.join()
    guard let outcome = result.value else { throw TestFailure("the thread never finished") }
    return try outcome.get()
}

/// Creates a thread whose attributes carry `cpus`, lets it see where it runs, and joins it.
/// Calls `pthread_create` itself, not `OSThreads`: it tests the raw code the kernel's refusal
/// gives, which `OSThreads.start` turns into `ThreadStartError` on top of this.
/// - Returns: pthread_create's code, and what the thread saw if it ran.
func startThread(cpus: [Int]) throws -> (Int32, CPUPlacementTests.Seen?) {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    try CPUPlacement.setCPUs(cpus, on: &attributes)
    let seen = Box<CPUPlacementTests.Seen?>(nil)
    let retained = Unmanaged.passRetained(seen).toOpaque()
    var thread = pthread_t()
    let code = pthread_create(
        &thread, &attributes,
        { raw in
            let seen = Unmanaged<Box<CPUPlacementTests.Seen?>>.fromOpaque(raw!).takeRetainedValue()  // passed retained below
            seen.value = CPUPlacementTests.see()
            return nil
        }, retained)
    if code == 0 {
        pthread_join(thread, nil)
    } else {
        Unmanaged<Box<CPUPlacementTests.Seen?>>.fromOpaque(retained).release()  // the thread never took it
    }
    return (code, seen.value)
}
