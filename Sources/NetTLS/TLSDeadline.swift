import NetCore

/// A handshake's overall time limit: each wait gets what is left, so a peer that trickles
/// bytes cannot stretch the handshake past the caller's timeout.
struct TLSDeadline {
    private let timeout: Duration?
    private let end: ContinuousClock.Instant?
    private let operation: String

    init(timeout: Duration?, operation: String) {
        self.timeout = timeout
        self.end = timeout.map { ContinuousClock.now + $0 }
        self.operation = operation
    }

    /// The time left for the next wait; nil for no limit.
    /// - Throws: `NetError` of kind `.timedOut` once the deadline has passed.
    func remaining() throws -> Duration? {
        guard let end, let timeout else { return nil }
        let left = end - ContinuousClock.now
        guard left > .zero else { throw NetError.timedOut(operation, after: timeout) }
        return left
    }
}
