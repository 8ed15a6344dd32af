#if canImport(Glibc)
    import Glibc
#endif

/// Why an OS thread did not start.
public enum ThreadStartError: Error, Equatable, CustomStringConvertible {
    /// The CPU set was invalid or refused (nothing was started).
    case placement(CPUPlacementError)
    /// `pthread_create` failed with this code (`EAGAIN`: a thread or memory limit).
    case failed(errno: Int32)

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .placement(let error): return error.description
        case .failed(let code): return "could not start a thread: pthread_create returned \(code) (\(String(cString: strerror(code))))"
        }
    }
}

/// Plain OS threads (pthreads) for loops, worker pools and servers: the thread that drives a
/// loop is the caller's choice, not the Swift runtime's.
public enum OSThreads {
    /// Starts a thread that runs `body`, then ends.
    /// - Parameters:
    ///   - stackSize: bytes of stack; nil for the system default.
    ///   - cpus: the CPUs it may run on, from its first instruction (see `CPUPlacement`); nil
    ///     leaves it where the system puts it.
    /// - Parameter body: what the thread runs; the thread ends when it returns.
    /// - Returns: the thread, to `pthread_join`.
    /// - Throws: `ThreadStartError.placement` for an empty, out-of-range or refused CPU set,
    ///   `.failed` when the system cannot make the thread; `body` then never runs.
    /// Any thread.
    public static func start(
        stackSize: Int? = nil, cpus: [Int]? = nil, _ body: sending @escaping () -> Void
    ) throws(ThreadStartError) -> pthread_t {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
        if let cpus {
            do { try CPUPlacement.setCPUs(cpus, on: &attributes) } catch { throw .placement(error) }
        }
        let start = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let code = pthread_create(
            &thread, &attributes,
            { raw in
                Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()  // raw is `start`, passed retained
                return nil
            }, start)
        guard code == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(start).release()  // the thread never took it
            if let cpus, let placement = CPUPlacement.threadStartError(code, cpus: cpus) { throw .placement(placement) }
            throw .failed(errno: code)
        }
        return thread
    }

    /// The body handed to the new thread through pthread_create's one pointer.
    private final class ThreadBody {
        let body: () -> Void
        init(_ body: sending @escaping () -> Void) { self.body = body }
    }
}
