/// A simulated network between any number of endpoints: loss, latency, jitter, duplication,
/// reordering and a bandwidth limit per direction, on a virtual clock, from a seed. The same seed
/// and the same sends give the same deliveries, so a test through it is deterministic and needs
/// no real time (netem is not available here).
///
/// Sans-I/O: `send` puts a datagram in flight at a time the caller gives; `deliver(upTo:)`
/// returns, in arrival order, every datagram that has arrived by then. Conditions apply per
/// direction (`setConditions(_:from:to:)`), else the default. Not thread-safe (a value type):
/// one owner. Costs O(log n) per datagram in flight.
public struct NetworkSimulator<Endpoint: Hashable & Sendable>: Sendable {
    /// A datagram that has arrived.
    public struct Delivery: Sendable {
        /// The datagram's bytes, as sent.
        public var bytes: [UInt8]
        /// The endpoint that sent it.
        public var from: Endpoint
        /// The endpoint it arrived at.
        public var to: Endpoint
        /// When it arrived, in nanoseconds of the virtual clock.
        public var atNs: Int64
    }

    /// What the simulator did, for tests to check the conditions were really applied.
    public struct Stats: Sendable, Equatable {
        /// Datagrams given to `send`.
        public var sent = 0
        /// Datagrams lost (`loss`).
        public var lost = 0
        /// Extra copies made (`duplicate`).
        public var duplicated = 0
        /// Datagrams held back so later ones passed them (`reorder`).
        public var reordered = 0
        /// Datagrams dropped because they would wait past `maxQueueDelayNs` in the bandwidth queue.
        public var queueDropped = 0
        /// Datagrams delivered, copies included.
        public var delivered = 0
        /// Bytes of the delivered datagrams.
        public var bytesDelivered = 0
    }

    private struct Link: Hashable {
        var from: Endpoint
        var to: Endpoint
    }

    private struct InFlight {
        var delivery: Delivery
        /// Send order: ties in arrival time keep it.
        var order: UInt64
        func isBefore(_ other: InFlight) -> Bool {
            delivery.atNs != other.delivery.atNs ? delivery.atNs < other.delivery.atNs : order < other.order
        }
    }

    /// The conditions of every direction without its own (`setConditions(_:from:to:)`).
    public var defaultConditions: LinkConditions
    /// What the simulator has done so far.
    public private(set) var stats = Stats()
    private var conditions: [Link: LinkConditions] = [:]
    private var linkFreeAtNs: [Link: Int64] = [:]
    private var heap: [InFlight] = []
    private var order: UInt64 = 0
    private var random: SeededRandom

    /// An empty network whose random choices come from `seed` and whose links have `conditions`
    /// (perfect by default) unless set per direction.
    public init(seed: UInt64, conditions: LinkConditions = .perfect) {
        random = SeededRandom(seed: seed)
        defaultConditions = conditions
    }

    /// Sets the conditions of one direction (say, a lossier uplink, or a cut cable: loss 1).
    public mutating func setConditions(_ link: LinkConditions, from: Endpoint, to: Endpoint) {
        conditions[Link(from: from, to: to)] = link
    }

    /// Datagrams in flight.
    public var inFlight: Int { heap.count }

    /// When the next datagram arrives, or nil when none is in flight.
    public var nextArrivalNs: Int64? { heap.first?.delivery.atNs }

    /// Puts a datagram on the wire at `nowNs`, subject to the link's conditions.
    public mutating func send(_ bytes: [UInt8], from: Endpoint, to: Endpoint, nowNs: Int64) {
        stats.sent += 1
        let link = Link(from: from, to: to)
        let c = conditions[link] ?? defaultConditions
        if random.chance(c.loss) {
            stats.lost += 1
            return
        }
        var departNs = nowNs
        if c.bandwidthBytesPerSecond > 0 {
            // Serialisation: the datagram leaves once those before it on this link have.
            let start = max(nowNs, linkFreeAtNs[link] ?? nowNs)
            if start - nowNs > c.maxQueueDelayNs {
                stats.queueDropped += 1
                return
            }
            let transmitNs = Int64(bytes.count) * 1_000_000_000 / Int64(c.bandwidthBytesPerSecond)
            linkFreeAtNs[link] = start + transmitNs
            departNs = start + transmitNs
        }
        var delay = c.latencyNs
        if c.jitterNs > 0 { delay += Int64.random(in: -c.jitterNs...c.jitterNs, using: &random) }
        if random.chance(c.reorder) {
            delay += c.reorderDelayNs
            stats.reordered += 1
        }
        let atNs = departNs + max(0, delay)
        push(Delivery(bytes: bytes, from: from, to: to, atNs: atNs))
        if random.chance(c.duplicate) {
            stats.duplicated += 1
            push(Delivery(bytes: bytes, from: from, to: to, atNs: atNs + 1 + max(0, c.jitterNs)))
        }
    }

    /// Takes every datagram that has arrived by `nowNs`, earliest first.
    public mutating func deliver(upTo nowNs: Int64) -> [Delivery] {
        var out: [Delivery] = []
        while let first = heap.first, first.delivery.atNs <= nowNs {
            out.append(popFirst())
            stats.delivered += 1
            stats.bytesDelivered += first.delivery.bytes.count
        }
        return out
    }

    // MARK: - Binary heap by arrival time

    private mutating func push(_ delivery: Delivery) {
        heap.append(InFlight(delivery: delivery, order: order))
        order &+= 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].isBefore(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func popFirst() -> Delivery {
        let first = heap[0].delivery
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let left = 2 * i + 1
                let right = left + 1
                var smallest = i
                if left < heap.count, heap[left].isBefore(heap[smallest]) { smallest = left }
                if right < heap.count, heap[right].isBefore(heap[smallest]) { smallest = right }
                if smallest == i { break }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        return first
    }
}
