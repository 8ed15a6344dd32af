/// The host's timers: a binary min-heap of (wake time, connection id), so `update` visits only
/// the connections that are due instead of every one (1,000 idle peers ping twice a second
/// each, and every datagram that finds some connection due ran an O(peers) sweep before).
///
/// Entries are never removed but at the top: a connection whose wake time changes gets a new
/// entry, and the old one is skipped when it comes up (it no longer matches the connection's
/// `cachedWakeNs`). `rebuild` drops the stale ones (the host calls it when they pass half the live).
/// Pure bookkeeping; its host confines it. Cost: O(log n) per push and pop.
struct WakeQueue {
    private(set) var entries: [(wakeNs: Int64, id: UInt64)] = []

    var count: Int { entries.count }
    var min: (wakeNs: Int64, id: UInt64)? { entries.first }

    mutating func push(_ wakeNs: Int64, _ id: UInt64) {
        entries.append((wakeNs, id))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].wakeNs < entries[parent].wakeNs else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func popMin() -> (wakeNs: Int64, id: UInt64)? {
        guard let top = entries.first else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return top }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { break }
            let right = left + 1
            let child = right < entries.count && entries[right].wakeNs < entries[left].wakeNs ? right : left
            guard entries[child].wakeNs < entries[parent].wakeNs else { break }
            entries.swapAt(child, parent)
            parent = child
        }
        return top
    }

    /// Replaces every entry by one per live connection (its wake time).
    mutating func rebuild(_ live: some Sequence<(wakeNs: Int64, id: UInt64)>) {
        entries.removeAll(keepingCapacity: true)
        for entry in live { push(entry.wakeNs, entry.id) }
    }
}
