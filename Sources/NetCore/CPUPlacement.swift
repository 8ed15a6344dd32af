import CLinuxShim

#if canImport(Glibc)
    import Glibc
#endif

/// Which CPUs a thread may run on (Linux CPU affinity).
///
/// A game reserves a core for its main thread: the thread that pumps the loop is pinned to one
/// CPU, and the threads that would otherwise be woken onto that core (worker pools, stand-in
/// servers) are started on the others. Left alone, the scheduler often places a thread woken by
/// the game thread on the game thread's own core while another core idles, and the game thread
/// then waits in the run queue in the middle of its frame.
///
/// Everything here acts on the calling thread, or (`setCPUs(_:on:)`) on a thread not yet created.
public enum CPUPlacement {
    /// One more than the highest CPU number a set may name (glibc's `CPU_SETSIZE`, 1024).
    public static let cpuNumberLimit = Int(cln_cpu_setsize())

    /// The CPUs the calling thread may run on, lowest first. Empty only if the kernel cannot
    /// report them in a set of `cpuNumberLimit` CPUs (a machine with more possible CPUs).
    /// Any thread.
    public static func allowedCPUs() -> [Int] {
        [Int32](unsafeUninitializedCapacity: cpuNumberLimit) { buffer, initialized in
            initialized = max(0, Int(cln_allowed_cpus(buffer.baseAddress, Int32(cpuNumberLimit))))
        }.map(Int.init)
    }

    /// Restricts the calling thread to `cpus` from now on; threads it creates afterwards inherit
    /// the restriction (unless their attributes say otherwise). That includes pools made on first
    /// use (`Client.sharedWorkerPool()`: 8 threads; `Resolver.shared()`: 2 threads; neither
    /// starts a watchdog unless asked): a game thread that pins itself should make them first,
    /// or use pools of its own created with `cpus:`.
    ///
    /// The kernel keeps the CPUs of the set that are online and allowed for the process and
    /// refuses the call only when none is; `allowedCPUs()` afterwards says what it kept.
    /// - Throws: `CPUPlacementError.emptySet` or `.cpuOutOfRange` before asking the kernel;
    ///   `.kernelRefused` when it refuses (the thread's placement is then unchanged).
    /// Any thread, for itself.
    public static func pinCurrentThread(to cpus: [Int]) throws(CPUPlacementError) {
        try validate(cpus)
        let code = withCPUNumbers(cpus) { cln_pin_current_thread($0.baseAddress, Int32($0.count)) }
        guard code == 0 else { throw .kernelRefused(cpus: cpus, errno: code) }
    }

    /// The CPU the calling thread is running on at the moment of the call, or nil if the kernel
    /// does not say. Any thread.
    public static var currentCPU: Int? {
        let cpu = cln_current_cpu()
        return cpu >= 0 ? Int(cpu) : nil
    }

    /// Puts `cpus` into thread attributes, so that a thread created with them (`pthread_create`)
    /// runs only there from its first instruction: no moment on a core it should stay off.
    ///
    /// The kernel sees the set only when the thread is created: if it refuses the set,
    /// `pthread_create` returns `EINVAL` before the thread runs any code; `threadStartError`
    /// turns that code into `.kernelRefused`.
    /// - Throws: `CPUPlacementError.emptySet` or `.cpuOutOfRange`; `.kernelRefused` if glibc
    ///   rejects the attributes. Any thread.
    public static func setCPUs(_ cpus: [Int], on attributes: inout pthread_attr_t) throws(CPUPlacementError) {
        try validate(cpus)
        let code = withCPUNumbers(cpus) { cln_attr_set_cpus(&attributes, $0.baseAddress, Int32($0.count)) }
        guard code == 0 else { throw .kernelRefused(cpus: cpus, errno: code) }
    }

    /// The placement error behind a failed `pthread_create` of a thread whose attributes carry
    /// `cpus`, or nil if the failure has another cause. glibc applies the set while creating the
    /// thread and reports the kernel's refusal as `EINVAL`, which `pthread_create` returns for
    /// nothing else once the attributes were accepted.
    public static func threadStartError(_ code: Int32, cpus: [Int]) -> CPUPlacementError? {
        code == EINVAL ? .kernelRefused(cpus: cpus, errno: code) : nil
    }

    /// Checks a set before the kernel sees it.
    /// - Throws: `CPUPlacementError.emptySet`, or `.cpuOutOfRange` for the first bad number.
    public static func validate(_ cpus: [Int]) throws(CPUPlacementError) {
        guard !cpus.isEmpty else { throw .emptySet }
        if let bad = cpus.first(where: { $0 < 0 || $0 >= cpuNumberLimit }) {
            throw .cpuOutOfRange(cpu: bad, limit: cpuNumberLimit)
        }
    }

    /// `cpus` as the C shim's `int` array; call only after `validate` (every number fits).
    private static func withCPUNumbers<R>(_ cpus: [Int], _ body: (UnsafeBufferPointer<Int32>) -> R) -> R {
        cpus.map { Int32($0) }.withUnsafeBufferPointer(body)
    }
}

/// Why a thread could not be placed on the CPUs asked for.
public enum CPUPlacementError: Error, Equatable, CustomStringConvertible {
    /// The set names no CPU; a thread must be allowed at least one.
    case emptySet
    /// A CPU number below 0, or at or above `limit` (`CPUPlacement.cpuNumberLimit`).
    case cpuOutOfRange(cpu: Int, limit: Int)
    /// The kernel refused the set with `errno`: `EINVAL` when none of its CPUs is online and
    /// allowed for this process (by `taskset`, a container's cpuset, ...).
    case kernelRefused(cpus: [Int], errno: Int32)

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .emptySet:
            return "no CPU given: a thread needs at least one CPU to run on (pass nil to leave placement to the system)"
        case .cpuOutOfRange(let cpu, let limit):
            return "CPU \(cpu) does not exist: CPU numbers go from 0 to \(limit - 1)"
        case .kernelRefused(let cpus, let code):
            let list = cpus.map(String.init).joined(separator: ", ")
            let reason = String(cString: strerror(code))
            let noun = cpus.count == 1 ? "CPU" : "CPUs"
            return "the kernel refused to run the thread on \(noun) \(list) (errno \(code): \(reason)); "
                + "at least one of them must be online and allowed for this process: "
                + "CPUPlacement.allowedCPUs() lists those of the calling thread"
        }
    }
}
