/// The loop's map from a task's address to its tasklet: open addressing with linear probing and
/// backward-shift deletion, hashed by the pointer bits. Looked up on every park (to tell a
/// tasklet's own task from a child task), where `Dictionary`'s SipHash cost about 20 ns.
/// Loop thread only.
struct TaskletTable {
    private var keys: [UnsafeRawPointer?]
    private var values: [Tasklet?]
    private(set) var count = 0

    init(capacity: Int = 64) {
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        keys = Array(repeating: nil, count: size)
        values = Array(repeating: nil, count: size)
    }

    @inline(__always)
    private func slot(for key: UnsafeRawPointer) -> Int {
        // Fibonacci hashing of the address (tasks are 16-byte aligned: drop the low bits first).
        let bits = UInt(bitPattern: key) >> 4
        return Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 7) & (keys.count - 1)
    }

    subscript(key: UnsafeRawPointer) -> Tasklet? {
        var index = slot(for: key)
        while let candidate = keys[index] {
            if candidate == key { return values[index] }
            index = (index + 1) & (keys.count - 1)
        }
        return nil
    }

    mutating func insert(_ tasklet: Tasklet, for key: UnsafeRawPointer) {
        // At most 3/4 full: every parked tasklet pays its share of both arrays, and linear
        // probing stays short at that load (about 2.5 probes for a hit).
        if (count + 1) * 4 > keys.count * 3 { grow() }
        var index = slot(for: key)
        while let candidate = keys[index] {
            if candidate == key {
                values[index] = tasklet
                return
            }
            index = (index + 1) & (keys.count - 1)
        }
        keys[index] = key
        values[index] = tasklet
        count += 1
    }

    mutating func remove(_ key: UnsafeRawPointer) {
        let mask = keys.count - 1
        var index = slot(for: key)
        while let candidate = keys[index], candidate != key { index = (index + 1) & mask }
        guard keys[index] != nil else { return }
        keys[index] = nil
        values[index] = nil
        count -= 1
        // Shift later members of the probe run back, so that lookups never stop at a hole.
        var next = (index + 1) & mask
        while let moving = keys[next] {
            let home = slot(for: moving)
            let distanceFromHome = (next - home) & mask
            let distanceToHole = (next - index) & mask
            if distanceFromHome >= distanceToHole {
                keys[index] = moving
                values[index] = values[next]
                keys[next] = nil
                values[next] = nil
                index = next
            }
            next = (next + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = Array(repeating: nil, count: oldKeys.count * 2)
        values = Array(repeating: nil, count: oldKeys.count * 2)
        count = 0
        for (key, value) in zip(oldKeys, oldValues) {
            if let key, let value { insert(value, for: key) }
        }
    }
}
