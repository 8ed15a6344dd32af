/// A token bucket on wire bytes: it fills at `bytesPerSecond` up to `burst` bytes. A data packet
/// may go while the balance is positive and then takes its whole size, so the balance dips below
/// zero by at most one packet: the long-run rate is exactly the cap, and a full packet is never
/// stuck behind a burst smaller than itself. Control packets (acks, pings, disconnects) are
/// charged too but never held back (a held ack would make the peer's window collapse).
/// Over any interval of T seconds at most `bytesPerSecond * T + burst + one MTU` bytes of data
/// packets pass. Pure arithmetic on the caller's clock; no I/O.
struct TokenBucket {
    let bytesPerSecond: Int
    let burst: Int
    /// The balance in byte-nanoseconds (bytes times 10^9), so no fraction of a byte is lost
    /// between refills however often they come.
    private var credit: Int64
    private var lastNs: Int64

    /// Starts full.
    init(bytesPerSecond: Int, burst: Int, nowNs: Int64) {
        self.bytesPerSecond = bytesPerSecond
        self.burst = burst
        credit = Int64(burst) * 1_000_000_000
        lastNs = nowNs
    }

    private var capacity: Int64 { Int64(burst) * 1_000_000_000 }

    mutating func refill(nowNs: Int64) {
        guard nowNs > lastNs else { return }
        // Only as much time as fills the bucket counts, so a long idle gap cannot overflow.
        let toFullNs = (capacity - credit) / Int64(bytesPerSecond) + 1
        credit = min(capacity, credit + min(nowNs - lastNs, max(toFullNs, 0)) * Int64(bytesPerSecond))
        lastNs = nowNs
    }

    /// Whether a data packet may go now (call `refill` first).
    var allowsData: Bool { credit > 0 }

    mutating func spend(_ bytes: Int) { credit -= Int64(bytes) * 1_000_000_000 }

    /// When `allowsData` next holds: the last refill's time if it holds already.
    func readyAtNs() -> Int64 {
        credit > 0 ? lastNs : lastNs + (-credit) / Int64(bytesPerSecond) + 1
    }
}
