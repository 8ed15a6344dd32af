/// A growable FIFO ring buffer: O(1) append and removal at the front, storage reused.
/// Not thread-safe: the owner (the loop thread, or a holder of a lock) serialises access.
@usableFromInline
struct RingBuffer<Element> {
    @usableFromInline var storage: [Element?]
    @usableFromInline var head = 0
    @usableFromInline var count = 0

    @inlinable init(capacity: Int = 16) {
        storage = Array(repeating: nil, count: Swift.max(capacity, 1))
    }

    @inlinable var isEmpty: Bool { count == 0 }

    @inlinable mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        var index = head + count
        if index >= storage.count { index -= storage.count }
        storage[index] = element
        count += 1
    }

    @inlinable mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        if head == storage.count { head = 0 }
        count -= 1
        return element
    }

    @inlinable var first: Element? { count > 0 ? storage[head] : nil }

    /// Removes and returns the first element that matches; O(n). Keeps the order of the rest.
    @inlinable mutating func removeFirst(where matches: (Element) -> Bool) -> Element? {
        for offset in 0..<count {
            let index = (head + offset) % storage.count
            guard let element = storage[index], matches(element) else { continue }
            // Shift the elements after it one place towards the head.
            var current = index
            for _ in offset..<(count - 1) {
                let next = (current + 1) % storage.count
                storage[current] = storage[next]
                current = next
            }
            storage[current] = nil
            count -= 1
            return element
        }
        return nil
    }

    /// Removes every element, returning them in order.
    @inlinable mutating func removeAll() -> [Element] {
        var out: [Element] = []
        out.reserveCapacity(count)
        while let element = popFirst() { out.append(element) }
        return out
    }

    @inlinable mutating func grow() {
        var bigger = [Element?](repeating: nil, count: storage.count * 2)
        for offset in 0..<count {
            bigger[offset] = storage[(head + offset) % storage.count]
        }
        storage = bigger
        head = 0
    }
}
