import CLinuxShim
import Synchronization

/// Errors a channel operation can throw.
public enum ChannelError: Error, Equatable, CustomStringConvertible {
    /// The channel was closed: no value will be sent or received through it any more
    /// (values buffered before the close are still received first).
    case closed

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        "the channel is closed: no more values can be sent, and every buffered value has been received"
    }
}

/// Who goes on first when an operation completes a hand-off with a waiting tasklet of the same loop.
public enum ChannelPreference: Int, Sendable {
    /// The receiver runs first (Stackless's default): a sender that wakes a receiver yields to it.
    case receiver = -1
    /// Neither side switches: the woken tasklet runs when the run queue reaches it.
    case neither = 0
    /// The sender goes on first: a receiver that wakes a sender yields to it.
    case sender = 1
}

@usableFromInline let nextWaiterID = Atomic<UInt64>(1)

/// A channel in Stackless's sense: a meeting point where one side sends values and the other
/// receives them, between tasklets of one loop, tasklets of different loops, and plain threads.
///
/// By default a channel is a rendezvous (capacity 0): `send` parks until a receiver takes the
/// value. With a capacity, up to that many values wait in the channel. A value in transit is
/// owned by the channel until its receiver runs; it is never dropped, duplicated or replaced.
/// `close()` wakes every waiter with `ChannelError.closed`.
///
/// All methods are safe from any thread. `send`/`receive` park a tasklet (or suspend any task);
/// `sendBlocking`/`receiveBlocking` block a plain thread and must not be called on a loop's thread.
///
/// The hot paths are `@inlinable` so that `Channel<YourType>` is specialised in your module:
/// unspecialised generic code pays a metadata lookup for every nested type it touches.
public final class Channel<Element: Sendable>: @unchecked Sendable {
    // @unchecked: every mutable field is in `state`, guarded by `lock`.
    @usableFromInline let lock = PThreadMutex()
    /// How many values may wait in the channel without a receiver (0 = rendezvous).
    public let capacity: Int
    /// The mutable state lives behind a pointer, not in stored properties: the lock already makes
    /// access exclusive, and stored properties would add a dynamic exclusivity check per access.
    @usableFromInline let state: UnsafeMutablePointer<State>

    @usableFromInline
    struct State: ~Copyable {
        @usableFromInline var buffer = RingBuffer<Element>(capacity: 4)
        @usableFromInline var receivers = RingBuffer<Receiver>(capacity: 4)
        @usableFromInline var senders = RingBuffer<Sender>(capacity: 4)
        @usableFromInline var closed = false
        @usableFromInline var preference = ChannelPreference.receiver
        /// The most values ever buffered at once.
        @usableFromInline var bufferedHighWater = 0
        @inlinable init() {}

        @inlinable @inline(__always) mutating func buffer(_ value: Element) {
            buffer.append(value)
            if buffer.count > bufferedHighWater { bufferedHighWater = buffer.count }
        }
    }

    /// Creates a channel.
    /// - Parameter capacity: values that may wait without a receiver; 0 (the default) makes
    ///   every send a rendezvous with a receiver. Negative values are treated as 0.
    @inlinable
    public init(capacity: Int = 0) {
        self.capacity = Swift.max(0, capacity)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Who runs first after a hand-off; see `ChannelPreference`. Default `.receiver`.
    public var preference: ChannelPreference {
        get { lock.withLock { state.pointee.preference } }
        set { lock.withLock { state.pointee.preference = newValue } }
    }

    /// Negative: that many receivers are waiting. Positive: that many senders are waiting.
    public var balance: Int {
        lock.withLock { state.pointee.receivers.isEmpty ? state.pointee.senders.count : -state.pointee.receivers.count }
    }

    /// Values waiting in the channel's buffer.
    public var bufferedCount: Int { lock.withLock { state.pointee.buffer.count } }

    /// The most values ever waiting in the buffer at once (at most `capacity`).
    public var bufferedHighWater: Int { lock.withLock { state.pointee.bufferedHighWater } }

    /// True once `close()` has been called.
    public var isClosed: Bool { lock.withLock { state.pointee.closed } }

    // MARK: - Async side

    /// Sends a value, parking until a receiver takes it (or until it fits in the buffer).
    /// - Throws: `ChannelError.closed` if the channel is or becomes closed before the value is
    ///   taken (the value is then not delivered); `CancellationError` if the task is cancelled
    ///   while parked.
    @inlinable
    nonisolated(nonsending) public func send(_ value: Element) async throws {
        lock.lock()
        let attempt = attemptSendLocked(value)
        let preference = state.pointee.preference
        lock.unlock()
        switch attempt {
        case .handedTo(let receiver):
            if receiver.resume(returning: value) && preference == .receiver { await Task.yield() }
        case .buffered:
            return
        case .closed:
            throw ChannelError.closed
        case .full:
            try await parkSender(value)
        }
    }

    /// Receives a value, parking until one is sent.
    /// - Throws: `ChannelError.closed` once the channel is closed and its buffer is empty;
    ///   `CancellationError` if the task is cancelled while parked (no value is lost: a value
    ///   already handed to this receiver is returned instead).
    @inlinable
    nonisolated(nonsending) public func receive() async throws -> Element {
        lock.lock()
        let attempt = attemptReceiveLocked()
        let preference = state.pointee.preference
        lock.unlock()
        switch attempt {
        case .value(let value, let releasedSender):
            if let releasedSender, releasedSender.resume() && preference == .sender { await Task.yield() }
            return value
        case .closed:
            throw ChannelError.closed
        case .empty:
            return try await parkReceiver()
        }
    }

    @inlinable
    nonisolated(nonsending) func parkSender(_ value: Element) async throws {
        let id = nextWaiterID.wrappingAdd(1, ordering: .relaxed).oldValue
        try await park(on: self, id: id) { (continuation: UnsafeContinuation<Void, any Error>, checkCancellation) in
            // Try again under the lock: the state may have changed since send() looked, and a
            // wake-up must not be lost in between.
            lock.lock()
            let attempt = attemptSendLocked(value)
            if case .full = attempt, !(checkCancellation && Task.isCancelled) {
                state.pointee.senders.append(
                    Sender(value: value, wake: .tasklet(id: id, ParkedContinuation(continuation, loop: cln_current_loop()))))
                lock.unlock()
                return
            }
            lock.unlock()
            switch attempt {
            case .handedTo(let receiver):
                _ = receiver.resume(returning: value)
                continuation.resume()
            case .buffered: continuation.resume()
            case .closed: continuation.resume(throwing: ChannelError.closed)
            case .full: continuation.resume(throwing: CancellationError())
            }
        }
    }

    @inlinable
    nonisolated(nonsending) func parkReceiver() async throws -> Element {
        let id = nextWaiterID.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await park(on: self, id: id) { (continuation: UnsafeContinuation<Element, any Error>, checkCancellation) in
            lock.lock()
            let attempt = attemptReceiveLocked()
            if case .empty = attempt, !(checkCancellation && Task.isCancelled) {
                state.pointee.receivers.append(.tasklet(id: id, ParkedContinuation(continuation, loop: cln_current_loop())))
                lock.unlock()
                return
            }
            lock.unlock()
            switch attempt {
            case .value(let value, let releasedSender):
                _ = releasedSender?.resume()
                continuation.resume(returning: value)
            case .closed: continuation.resume(throwing: ChannelError.closed)
            case .empty: continuation.resume(throwing: CancellationError())
            }
        }
    }

    // MARK: - The state machine (called with `lock` held; waking happens after unlocking)

    @usableFromInline
    enum SendAttempt {
        /// A parked receiver was dequeued: resume it with the value.
        case handedTo(Receiver)
        /// The value went into the buffer.
        case buffered
        case closed
        /// No receiver and no room: the sender must wait.
        case full
    }

    @inlinable
    func attemptSendLocked(_ value: Element) -> SendAttempt {
        if state.pointee.closed { return .closed }
        if let receiver = state.pointee.receivers.popFirst() { return .handedTo(receiver) }
        guard state.pointee.buffer.count < capacity else { return .full }
        state.pointee.buffer(value)
        return .buffered
    }

    @usableFromInline
    enum ReceiveAttempt {
        /// A value, and the parked sender it released (resume it), if any.
        case value(Element, releasedSender: SenderWake?)
        /// Closed and drained.
        case closed
        /// Nothing to take: the receiver must wait.
        case empty
    }

    @inlinable
    func attemptReceiveLocked() -> ReceiveAttempt {
        if let value = state.pointee.buffer.popFirst() {
            // Room was made: the first parked sender's value moves into the buffer.
            let sender = state.pointee.senders.popFirst()
            if let sender { state.pointee.buffer(sender.value) }
            return .value(value, releasedSender: sender?.wake)
        }
        if let sender = state.pointee.senders.popFirst() { return .value(sender.value, releasedSender: sender.wake) }
        return state.pointee.closed ? .closed : .empty
    }

    // MARK: - Blocking side (plain threads)

    /// Sends from a plain thread, blocking it until a receiver takes the value (or it fits in
    /// the buffer).
    /// - Throws: `ChannelError.closed` as `send` does.
    /// Must not be called on a thread that is driving a loop: it would block every tasklet there.
    @inlinable
    public func sendBlocking(_ value: Element) throws {
        precondition(cln_current_loop() == nil, "sendBlocking on a loop's thread would block the loop; use send")
        lock.lock()
        let attempt = attemptSendLocked(value)
        if case .full = attempt {
            let slot = BlockingSlot<Void>()
            state.pointee.senders.append(Sender(value: value, wake: .thread(slot)))
            lock.unlock()
            return try slot.wait()
        }
        lock.unlock()
        switch attempt {
        case .handedTo(let receiver): _ = receiver.resume(returning: value)
        case .buffered, .full: return
        case .closed: throw ChannelError.closed
        }
    }

    /// Receives on a plain thread, blocking it until a value is sent.
    /// - Throws: `ChannelError.closed` once the channel is closed and drained.
    /// Must not be called on a thread that is driving a loop.
    @inlinable
    public func receiveBlocking() throws -> Element {
        precondition(cln_current_loop() == nil, "receiveBlocking on a loop's thread would block the loop; use receive")
        lock.lock()
        let attempt = attemptReceiveLocked()
        if case .empty = attempt {
            let slot = BlockingSlot<Element>()
            state.pointee.receivers.append(.thread(slot))
            lock.unlock()
            return try slot.wait()
        }
        lock.unlock()
        switch attempt {
        case .value(let value, let releasedSender):
            _ = releasedSender?.resume()
            return value
        case .closed, .empty:
            throw ChannelError.closed
        }
    }

    // MARK: - Closing

    /// Closes the channel and wakes every waiting sender and receiver with `ChannelError.closed`.
    /// Values already buffered can still be received. Idempotent; safe from any thread.
    @inlinable
    public func close() {
        lock.lock()
        state.pointee.closed = true
        let waitingReceivers = state.pointee.receivers.removeAll()
        let waitingSenders = state.pointee.senders.removeAll()
        lock.unlock()
        for receiver in waitingReceivers { receiver.resume(throwing: ChannelError.closed) }
        for sender in waitingSenders { sender.wake.resume(throwing: ChannelError.closed) }
    }

    // MARK: - Waiters

    @usableFromInline
    enum Receiver {
        case tasklet(id: UInt64, ParkedContinuation<Element>)
        case thread(BlockingSlot<Element>)

        @inlinable var id: UInt64? {
            if case .tasklet(let id, _) = self { return id }
            return nil
        }

        /// Hands the value over. Returns whether the receiver is a tasklet of the calling thread's
        /// loop; a tasklet of another loop is resumed on its own loop (see `ParkedContinuation`).
        @inlinable func resume(returning value: Element) -> Bool {
            switch self {
            case .tasklet(_, let continuation): return continuation.resumeReportingLocal(returning: value)
            case .thread(let slot):
                slot.complete(.success(value))
                return false
            }
        }

        @inlinable func resume(throwing error: any Error) {
            switch self {
            case .tasklet(_, let continuation): continuation.resume(throwing: error)
            case .thread(let slot): slot.complete(.failure(error))
            }
        }
    }

    @usableFromInline
    struct Sender {
        @usableFromInline let value: Element
        @usableFromInline let wake: SenderWake

        @inlinable init(value: Element, wake: SenderWake) {
            self.value = value
            self.wake = wake
        }
    }

    @usableFromInline
    enum SenderWake {
        case tasklet(id: UInt64, ParkedContinuation<Void>)
        case thread(BlockingSlot<Void>)

        @inlinable var id: UInt64? {
            if case .tasklet(let id, _) = self { return id }
            return nil
        }

        /// Tells the sender its value was taken. Returns whether it is a tasklet of this thread's loop.
        @inlinable func resume() -> Bool {
            switch self {
            case .tasklet(_, let continuation): return continuation.resumeReportingLocal(returning: ())
            case .thread(let slot):
                slot.complete(.success(()))
                return false
            }
        }

        @inlinable func resume(throwing error: any Error) {
            switch self {
            case .tasklet(_, let continuation): continuation.resume(throwing: error)
            case .thread(let slot): slot.complete(.failure(error))
            }
        }
    }
}

extension Channel: ParkSite {
    /// Removes a parked waiter and resumes it with `error`. If the waiter is no longer queued, its
    /// hand-off already happened and it keeps what it was given. Safe from any thread.
    @usableFromInline
    func abandonPark(id: UInt64, error: any Error) {
        lock.lock()
        let receiver = state.pointee.receivers.removeFirst { $0.id == id }
        let sender = receiver == nil ? state.pointee.senders.removeFirst { $0.wake.id == id } : nil
        lock.unlock()
        receiver?.resume(throwing: error)
        sender?.wake.resume(throwing: error)
    }
}

extension Channel: AsyncSequence {
    /// A receive fails with the error that ended the channel (`ChannelError.closed`, or cancellation).
    public typealias Failure = any Error

    /// Iterates received values until the channel is closed and drained.
    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let channel: Channel

        @inlinable init(channel: Channel) { self.channel = channel }

        /// The next value, or nil once the channel is closed and drained.
        /// - Throws: `CancellationError` if the task is cancelled while waiting.
        @inlinable
        nonisolated(nonsending) public mutating func next() async throws -> Element? {
            do {
                return try await channel.receive()
            } catch ChannelError.closed {
                return nil
            }
        }
    }

    /// An iterator that receives from this channel; `for try await` ends when it is closed and drained.
    @inlinable public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: self) }
}
