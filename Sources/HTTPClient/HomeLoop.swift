import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// The loop a `Client` runs the exchanges of callers that are not its tasklets on: the loop
/// `HTTPClientConfiguration.loop` names (no thread started), or else one loop thread named
/// "http-client" that the client starts on the first such call, never before (a client used
/// only from tasklets starts none).
final class HomeLoop: @unchecked Sendable {  // `started` is guarded by `lock`
    private let given: Loop?
    /// Closes the client's idle pooled connections of a loop, on that loop's thread.
    private let closeIdle: @Sendable (Loop) -> Void
    private let lock = PThreadMutex()
    private var started: ClientLoopThread?

    init(given: Loop?, closeIdle: @escaping @Sendable (Loop) -> Void) {
        self.given = given
        self.closeIdle = closeIdle
    }

    deinit { started?.stop() }

    /// The loop to hop to, starting the client's thread if it has none yet.
    /// - Throws: `ThreadStartError` or `LoopError` when that thread or its loop cannot be made
    ///   (the next call tries again). Any thread.
    func loop() throws -> Loop {
        if let given { return given }
        return try lock.withLock {
            if let started { return started.loop }
            let made = try ClientLoopThread(closeIdle: closeIdle)
            started = made
            return made.loop
        }
    }

    /// Whether the client's own loop thread is running now (false with a given loop).
    var hasStartedThread: Bool { lock.withLock { started != nil } }

    /// Lets the client's thread end: its loop closes the idle connections it pooled and returns
    /// once the exchanges in flight there have ended. Does not wait. The next off-loop call
    /// starts a new thread. Any thread.
    func shutdown() {
        let thread = lock.withLock {
            defer { started = nil }
            return started
        }
        thread?.stop()
    }
}

/// One OS thread driving one loop for a `Client`, until `stop()`.
final class ClientLoopThread: Sendable {
    let loop: Loop
    /// Closed by `stop()`. Its receiver, a tasklet, keeps `run()` from returning while the loop has
    /// nothing else to do.
    private let keeper = Channel<Void>()

    /// Starts the thread (detached: `stop()` lets it end on its own, and a caller that is on it
    /// could not join it anyway).
    /// - Throws: `LoopError.backendUnavailable`, `ThreadStartError`.
    init(closeIdle: @escaping @Sendable (Loop) -> Void) throws {
        let loop = try Loop(name: "http-client")
        self.loop = loop
        let keeper = keeper
        let thread = try OSThreads.start {
            ThreadIdentity.setName("http-client")
            // Spawned here, before `run()`: run() returns once no tasklet is alive.
            loop.spawn(name: "http-client-keeper") {
                _ = try? await keeper.receive()  // only `stop()` ends it, by closing
                closeIdle(loop)
            }
            loop.run()
        }
        pthread_detach(thread)
    }

    func stop() { keeper.close() }
}
