import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// The write end of the interrupt socket pair: the signal handler's only state (a C handler
/// can capture nothing). Written once before the handler is installed.
nonisolated(unsafe) private var interruptWriteFD: Int32 = -1

/// Turns SIGINT, SIGTERM and SIGHUP (a closed terminal) into a byte on a socket pair that a tasklet waits on: a signal
/// handler may only do async-signal-safe things (write(2)), and the loop hears it like any
/// other socket. The first signal stops the downloads cleanly; a second one exits at once.
final class InterruptWatcher {
    /// The signals that end the downloads cleanly.
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private let reader: StreamSocket
    private var handle: TaskletHandle<Void>?

    /// - Throws: `NetError` if the socket pair cannot be made.
    init() throws {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw NetError(errno: errno, operation: "socketpair for signals")
        }
        interruptWriteFD = fds[1]
        reader = try StreamSocket(adopting: fds[0])
        let handler: @convention(c) (Int32) -> Void = { _ in
            var byte: UInt8 = 1
            if write(interruptWriteFD, &byte, 1) != 1 || byte == 0 { _exit(130) }
        }
        for signalNumber in Self.signals { signal(signalNumber, handler) }
        // A parent may start us with these signals blocked (posix_spawn and fork pass the
        // spawning thread's mask on): unblock them, or Ctrl-C would stay pending forever.
        var wanted = sigset_t()
        sigemptyset(&wanted)
        for signalNumber in Self.signals { sigaddset(&wanted, signalNumber) }
        pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
    }

    /// Runs `onInterrupt` on the loop at the first signal; a second signal ends the process.
    func watch(on loop: Loop, _ onInterrupt: @escaping () -> Void) {
        let reader = reader
        nonisolated(unsafe) let action = onInterrupt  // called on this loop's thread only
        handle = loop.spawn(name: "signals") {
            guard let byte = try? await reader.read(maxBytes: 1), !byte.isEmpty else { return }
            // From now on a signal kills at once: the user asked twice.
            // A kill then is safe: the meta on disk only ever claims bytes that are on disk.
            for signalNumber in Self.signals { signal(signalNumber, SIG_DFL) }
            action()
        }
    }

    /// Stops watching (the loop can end). Call on the loop's thread.
    func stop() {
        reader.close()
    }
}
