/// Misuse of a lock, reported instead of corrupting its state.
public enum LockError: Error, Equatable, CustomStringConvertible {
    /// `release()` on a lock that is not held (or an `RLock` held by someone else).
    case notHeld(String)
    /// A `BoundedSemaphore` released more times than it was acquired.
    case releasedTooOften(bound: Int)
    /// A `Barrier` timed out or was broken: its waiters are released with this error.
    case barrierBroken

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .notHeld(let what): return "\(what) released by a tasklet or thread that does not hold it"
        case .releasedTooOften(let bound): return "bounded semaphore released above its bound \(bound)"
        case .barrierBroken: return "the barrier is broken (a wait timed out or it was reset); call reset() to reuse it"
        }
    }
}
