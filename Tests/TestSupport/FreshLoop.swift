import NetCore
import Testing

/// Runs `body` as a tasklet on a fresh `Loop`, drives that loop on the calling thread until it
/// is idle, and returns the body's result (rethrowing its error).
///
/// The one fresh-loop runner of every test target: each test gets a loop of its own, so no
/// state leaks from one test into the next.
/// - Parameters:
///   - backend, loopName, limits: the loop's (`Loop.init`).
///   - tasklet: the tasklet's name, as the watchdog reports it.
///   - expectNoWatchers: records an issue unless every watcher is stopped once the loop is idle
///     (a parked socket or timer left behind).
///   - unfinished: the failure's text when the loop went idle with the tasklet still parked.
/// - Throws: the body's error, or `TestFailure(unfinished)`.
/// Any thread that is not already driving a loop.
public func runTasklet<T: Sendable>(
    backend: LoopBackend = .automatic, loopName: String = "loop", limits: LoopLimits = .unlimited,
    tasklet: String? = "test", expectNoWatchers: Bool = true, unfinished: String = "the tasklet never finished",
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: sending @escaping () async throws -> T
) throws -> T {
    let loop = try Loop(backend: backend, name: loopName, limits: limits)
    let result = Box<Result<T, any Error>?>(nil)
    loop.spawn(name: tasklet) {
        do { result.value = .success(try await body()) } catch { result.value = .failure(error) }
    }
    loop.run()
    if expectNoWatchers {
        #expect(loop.stats.activeWatchers == 0, "every watcher is stopped once the loop is idle", sourceLocation: sourceLocation)
    }
    guard let outcome = result.value else { throw TestFailure(unfinished) }
    return try outcome.get()
}
