/// The congestion window of one connection, in packets carrying reliable messages: slow start,
/// then additive increase, and a loss response that tells random loss from congestion by the
/// queueing delay it comes with (TCP Veno's idea, Fu and Liew 2003; ENet's throttle likewise
/// listens to the RTT, not to loss).
///
/// Why not plain AIMD (Reno) that halves on each loss event: on a link that loses 1% of packets
/// at random, with no queue behind it, Reno settles near `1.22 / sqrt(p)` ≈ 12 packets per RTT
/// whatever the link can carry (measured: 0.29 MB/s over a 50 ms RTT, against ENet's 1.19).
/// A loss that comes with no queueing delay is not the sender's doing, and backing off does not
/// prevent the next one; a loss with the RTT well above its minimum is a full queue.
///
/// The queueing delay is LEDBAT's (RFC 6817): the least of the recent RTT samples (the last 8
/// to 16) over the least ever seen. A standing queue raises every sample, so their minimum;
/// jitter spreads them but leaves the least of several near the base (a smoothed RTT would
/// not: ±8 ms of jitter each way puts the mean 16 ms over the minimum).
///
/// The rules, once per RTT for losses (a loss of a packet sent before the last reduction is the
/// same event):
/// - Growth, per acknowledged reliable packet while the window is in use (at least half of it
///   in flight, so an application-limited connection does not grow a window it never tests):
///   one packet (slow start, doubling per RTT) below the threshold, `1 / window` above it
///   (one packet per RTT), and none while the queueing delay is over `queueingThreshold`
///   (Vegas's hold: the window already fills the bottleneck's queue).
/// - A congestion loss (queueing delay over the threshold, or recent loss over
///   `congestionLossRate`, the backstop for a bottleneck with no buffer and for an outage that
///   leaves no RTT samples): the window halves, and slow start ends there.
/// - A random loss (neither): slow start ends (the threshold becomes the window), the window
///   stays.
/// The window is at least 2 and at most `maxWindow` packets.
/// Pure arithmetic: no clock, no I/O; its connection confines it.
struct CongestionWindow {
    /// Recent loss (the connection's 1/16-gain average) above which every loss counts as
    /// congestion: random loss that high is rare, and a shallow-buffered bottleneck shows it.
    static let congestionLossRate = 0.15

    private(set) var window: Double
    private(set) var slowStartThreshold = Double.infinity
    let maxWindow: Double
    /// The least queueing delay (smoothed RTT over the minimum) that means a standing queue.
    let minQueueingThresholdNs: Int64
    /// Losses of packets numbered before this are part of the last reduction's event.
    private var recoveryUntilSequence: UInt32?
    private(set) var congestionEvents = 0
    private(set) var randomLossEvents = 0
    /// The least RTT sample ever, and the least of this group of 8 samples and of the last one.
    private(set) var baseRTTNs: Int64?
    private var groupMinNs = Int64.max
    private var previousGroupMinNs = Int64.max
    private var groupCount = 0
    static let samplesPerGroup = 8

    init(initial: Int, maxWindow: Int, ackDelayNs: Int64) {
        window = Double(initial)
        self.maxWindow = Double(max(initial, maxWindow))
        // The peer's ack delay puts up to that much into a sample; twice it is noise, not queue.
        minQueueingThresholdNs = max(2 * ackDelayNs, 2_000_000)
    }

    /// The queueing delay that counts as a standing queue for this path: a quarter of the
    /// minimum RTT, at least `minQueueingThresholdNs`.
    func queueingThreshold(minRTTNs: Int64) -> Int64 { max(minRTTNs / 4, minQueueingThresholdNs) }

    /// Takes one RTT sample (an acknowledged ack-eliciting packet's).
    mutating func addRTTSample(_ sampleNs: Int64) {
        baseRTTNs = min(baseRTTNs ?? sampleNs, sampleNs)
        groupMinNs = min(groupMinNs, sampleNs)
        groupCount += 1
        if groupCount == Self.samplesPerGroup {
            previousGroupMinNs = groupMinNs
            groupMinNs = .max
            groupCount = 0
        }
    }

    /// The least of the last 8 to 16 RTT samples over the least ever (0 before any sample).
    var queueingDelayNs: Int64 {
        guard let baseRTTNs else { return 0 }
        return min(groupMinNs, previousGroupMinNs) - baseRTTNs
    }

    /// Whether the recent RTT samples show a standing queue (false before any sample).
    var isQueueing: Bool {
        guard let baseRTTNs else { return false }
        return queueingDelayNs > queueingThreshold(minRTTNs: baseRTTNs)
    }

    /// One reliable packet acknowledged, `inFlight` such packets outstanding before it.
    mutating func acknowledged(inFlight: Int) {
        guard Double(inFlight) * 2 >= window, !isQueueing else { return }
        window = min(maxWindow, window + (window < slowStartThreshold ? 1 : 1 / window))
    }

    /// A reliable packet `sequence` was judged lost, `nextSequence` being the next to be sent.
    mutating func lost(sequence: UInt32, nextSequence: UInt32, recentLoss: Double) {
        if let until = recoveryUntilSequence, sequenceDistance(from: until, to: sequence) < 0 { return }
        recoveryUntilSequence = nextSequence
        if isQueueing || recentLoss > Self.congestionLossRate {
            window = max(2, window / 2)
            slowStartThreshold = window
            congestionEvents += 1
        } else {
            slowStartThreshold = min(slowStartThreshold, window)
            randomLossEvents += 1
        }
    }
}
