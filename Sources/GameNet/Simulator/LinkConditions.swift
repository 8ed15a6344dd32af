/// What a simulated link does to datagrams, one direction. Probabilities are 0...1; times are
/// nanoseconds of the simulator's virtual clock.
public struct LinkConditions: Sendable, Equatable {
    /// Probability that a datagram is lost.
    public var loss = 0.0
    /// One-way delay every datagram gets.
    public var latencyNs: Int64 = 0
    /// Each datagram's delay varies uniformly within ±jitter (never below zero); a jittered
    /// datagram can overtake an earlier one.
    public var jitterNs: Int64 = 0
    /// Probability that a datagram arrives twice (the copy a little later).
    public var duplicate = 0.0
    /// Probability that a datagram is held back by `reorderDelayNs` extra, so later ones pass it.
    public var reorder = 0.0
    /// How long a reordered datagram is held back.
    public var reorderDelayNs: Int64 = 5_000_000
    /// Bytes per second the link carries (0: unlimited). Datagrams queue behind each other.
    public var bandwidthBytesPerSecond = 0
    /// A datagram that would wait longer than this in the bandwidth queue is dropped (tail drop).
    public var maxQueueDelayNs: Int64 = 200_000_000

    /// Conditions with these probabilities (0...1), times and bandwidth (0: unlimited); the rest
    /// keep their defaults.
    public init(
        loss: Double = 0, latency: Duration = .zero, jitter: Duration = .zero, duplicate: Double = 0, reorder: Double = 0,
        bandwidthBytesPerSecond: Int = 0
    ) {
        self.loss = loss
        self.latencyNs = latency.wholeNanoseconds
        self.jitterNs = jitter.wholeNanoseconds
        self.duplicate = duplicate
        self.reorder = reorder
        self.bandwidthBytesPerSecond = bandwidthBytesPerSecond
    }

    /// A perfect link: no loss, no delay.
    public static let perfect = LinkConditions()
}

extension Duration {
    /// Whole nanoseconds, saturating (GameNet's clocks are Int64 nanoseconds).
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? (product < 0 ? .min : .max) : sum
    }
}
