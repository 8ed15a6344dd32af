import NetCore
import Synchronization

/// What a job sees while it runs on a worker thread.
public struct JobContext: Sendable {
    let request: any CallerState

    /// False once the caller has stopped waiting (its tasklet was cancelled, or it timed out):
    /// a long job can check this and stop early, since its result will be dropped anyway.
    public var isCallerWaiting: Bool { request.isCallerWaiting }
}

/// The part of a queued request that workers and the pool see, whatever its result type.
protocol CallerState: AnyObject, Sendable {
    var isCallerWaiting: Bool { get }
    var name: String { get }
    /// The loop and tasklet that called, if the call came from a tasklet: a stalled job is also
    /// reported to that loop's watchdog.
    var caller: (loop: Loop, tasklet: String?)? { get }
    /// Runs the job (unless the caller already left) and delivers the result, calling `record`
    /// with the outcome just before the caller can see it (so counters are never behind it).
    /// Worker thread.
    func run(record: (JobOutcome) -> Void)
    /// Fails the caller without running the job (shutdown with `.cancelQueued`).
    func fail(_ error: any Error)
}

/// One `callAsync`/`call`: the job, and how its result reaches the caller exactly once.
///
/// `state` decides who delivers: the worker (`finished`) or cancellation (`abandoned`), by a
/// compare-and-exchange from `waiting`; the loser does nothing, so a late result is dropped.
final class WorkerRequest<Value: Sendable>: CallerState, @unchecked Sendable {  // one compare-and-exchange decides who delivers, see above
    // @unchecked: `delivery` is set before the request is queued (the queue's lock publishes it)
    // and read once by whoever wins `state`.
    let name: String
    let caller: (loop: Loop, tasklet: String?)?
    private let job: @Sendable (JobContext) throws -> Value
    private let state = Atomic<UInt8>(Phase.waiting.rawValue)
    private var delivery: Delivery?

    private enum Phase: UInt8 {
        case waiting, finished, abandoned
    }

    enum Delivery {
        case tasklet(ParkedContinuation<Value>)
        /// A plain thread blocked in `receiveBlocking` on a one-place channel.
        case thread(Channel<Result<Value, any Error>>)
    }

    init(name: String, job: @escaping @Sendable (JobContext) throws -> Value) {
        self.name = name
        self.job = job
        caller = Loop.current.map { ($0, Tasklet.current?.name) }
    }

    func deliver(to delivery: Delivery) { self.delivery = delivery }

    var isCallerWaiting: Bool { state.load(ordering: .acquiring) == Phase.waiting.rawValue }

    func run(record: (JobOutcome) -> Void) {
        guard isCallerWaiting else { return record(.skipped) }  // the caller left while the job was queued
        let result = Result { try job(JobContext(request: self)) }
        let delivered = complete(result, as: .finished) {
            if case .failure = result { record(.threw) } else { record(.delivered) }
        }
        if !delivered { record(.droppedLate) }
    }

    func fail(_ error: any Error) { _ = complete(.failure(error), as: .finished) {} }

    /// The caller stopped waiting (cancelled): resume it now with `error`; the job's result, if it
    /// is still running, will find the request abandoned and be dropped.
    func abandon(_ error: any Error) { _ = complete(.failure(error), as: .abandoned) {} }

    /// Delivers `result` if nobody delivered first; returns whether it did.
    private func complete(_ result: Result<Value, any Error>, as phase: Phase, beforeDelivery: () -> Void) -> Bool {
        guard
            state.compareExchange(
                expected: Phase.waiting.rawValue, desired: phase.rawValue,
                ordering: .acquiringAndReleasing
            ).exchanged,
            let delivery
        else { return false }
        beforeDelivery()
        switch delivery {
        case .tasklet(let continuation):
            switch result {
            case .success(let value): continuation.resume(returning: value)
            case .failure(let error): continuation.resume(throwing: error)
            }
        case .thread(let channel):
            try? channel.sendBlocking(result)  // capacity 1 and one send: never waits, never closed
        }
        return true
    }
}

/// How a job's run ended, for the pool's counters.
enum JobOutcome {
    case delivered, threw, droppedLate, skipped
}
