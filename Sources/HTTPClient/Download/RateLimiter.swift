import NetCore

/// A byte-rate limit shared by the segments of one download: each read reserves its bytes on
/// a timeline advancing at `bytesPerSecond`, and a reader ahead of the timeline sleeps (a
/// libev timer, no thread). Loop-thread only.
final class RateLimiter {
    private let bytesPerSecond: Double
    private var nextFree = ContinuousClock.now

    init(bytesPerSecond: Int) { self.bytesPerSecond = Double(max(1, bytesPerSecond)) }

    /// Accounts for `count` bytes, sleeping until the rate allows them.
    /// - Throws: `CancellationError`.
    func consume(_ count: Int) async throws {
        let now = ContinuousClock.now
        // No credit for idle time beyond a quarter second: a burst after a pause stays short.
        if nextFree < now - .milliseconds(250) { nextFree = now - .milliseconds(250) }
        nextFree += .nanoseconds(Int64(Double(count) / bytesPerSecond * 1e9))
        if nextFree > now { try await sleep(until: nextFree) }
    }
}

/// Exponential back-off with jitter: attempt n waits a random time in [d/2, d], d = base * 2^(n-1), capped.
struct Backoff {
    let base: Duration
    let cap: Duration

    func delay(forAttempt attempt: Int) -> Duration {
        let exponent = min(attempt - 1, 20)
        let full = min(base * (1 << exponent), cap)
        let nanos = Double(full.components.seconds) * 1e9 + Double(full.components.attoseconds) / 1e9
        return .nanoseconds(Int64(nanos * Double.random(in: 0.5...1.0)))
    }
}
