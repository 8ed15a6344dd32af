/// A growable FIFO ring buffer: O(1) append and removal at the front, storage reused.
///
/// Noncopyable, over raw storage: no copy-on-write or bounds checks on the hot paths (the loop's
/// run queue, a channel's waiters), and the storage is freed when the owner goes. Not
/// thread-safe: the owner (the loop thread, or a holder of a lock) serialises access.
@usableFromInline
struct RingBuffer<Element>: ~Copyable {
    @usableFromInline var elements: UnsafeMutablePointer<Element>
    @usableFromInline var capacity: Int
    @usableFromInline var head = 0
    @usableFromInline var count = 0

    @inlinable init(capacity: Int = 16) {
        self.capacity = Swift.max(capacity, 1)
        elements = .allocate(capacity: self.capacity)
    }

    @inlinable deinit {
        for offset in 0..<count { (elements + slot(offset)).deinitialize(count: 1) }
        elements.deallocate()
    }

    @inlinable var isEmpty: Bool { count == 0 }

    /// The storage index of the element `offset` places after the head.
    @inlinable @inline(__always) func slot(_ offset: Int) -> Int {
        let index = head + offset
        return index >= capacity ? index - capacity : index
    }

    @inlinable mutating func append(_ element: Element) {
        if count == capacity { grow() }
        (elements + slot(count)).initialize(to: element)
        count += 1
    }

    @inlinable mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = (elements + head).move()
        head = head + 1 == capacity ? 0 : head + 1
        count -= 1
        return element
    }

    @inlinable var first: Element? { count > 0 ? elements[head] : nil }

    /// Removes and returns the first element that matches; O(n). Keeps the order of the rest.
    @inlinable mutating func removeFirst(where matches: (Element) -> Bool) -> Element? {
        for offset in 0..<count where matches(elements[slot(offset)]) {
            let element = (elements + slot(offset)).move()
            // Shift the elements after it one place towards the head.
            for later in offset..<(count - 1) {
                (elements + slot(later)).moveInitialize(from: elements + slot(later + 1), count: 1)
            }
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

    /// Swaps the (empty) storage for a new one of `capacity` slots: gives back what a burst grew.
    @inlinable mutating func replaceEmptyStorage(capacity newCapacity: Int) {
        precondition(count == 0, "RingBuffer.replaceEmptyStorage on a buffer holding elements")
        elements.deallocate()
        capacity = Swift.max(newCapacity, 1)
        elements = .allocate(capacity: capacity)
        head = 0
    }

    @inlinable mutating func grow() {
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        for offset in 0..<count { (bigger + offset).moveInitialize(from: elements + slot(offset), count: 1) }
        elements.deallocate()
        elements = bigger
        capacity *= 2
        head = 0
    }
}
