import NetCore

/// What a driver pumps: a `Host` or a `Client`, fed datagrams and time, giving datagrams and events.
///
/// A machine is sans-I/O and not thread-safe: the driver calls it from the one tasklet that
/// runs `UDPDriver.run` or `pump`, and nothing else may call it meanwhile except from tasklets
/// of the same loop, between the driver's awaits. Times are `MonotonicClock` nanoseconds.
public protocol DatagramMachine: AnyObject {
    /// Takes one datagram the socket received from `from` at `nowNs`; what it answers or
    /// reports waits in `takeDatagrams` and `pollEvent`. Never throws: bytes it cannot use are dropped.
    func receive(_ bytes: [UInt8], from: SocketAddress, nowNs: Int64)
    /// Does the work that is due at `nowNs` (resends, acks, keep-alives, timeouts, queued
    /// messages the caps allow). The driver calls it when `nextWakeNs` has come.
    func update(nowNs: Int64)
    /// The datagrams to send now, in order; the machine forgets them once taken.
    func takeDatagrams() -> [OutgoingDatagram]
    /// The next event, or nil when none is waiting; the driver calls it until nil.
    func pollEvent() -> GameNetEvent?
    /// When `update` next has work, or nil when nothing is due (the driver then waits its
    /// `idleWake`). A time at or before now means at once. The driver asks after each datagram
    /// that changed something, so it should be cheap.
    var nextWakeNs: Int64? { get }
    /// Whether messages were queued that no `update` or `flush` has sent yet (cheap: the
    /// driver asks on every flush tick).
    var hasQueuedMessages: Bool { get }
    /// Sends the queued messages the caps and windows allow, without the rest of `update`.
    func flush(nowNs: Int64)
}

extension DatagramMachine {
    /// A machine without a cheap check: the flush timer never fires for it.
    public var hasQueuedMessages: Bool { false }
    /// A machine without its own flush does a whole `update` instead (which also sends what is
    /// queued). The drivers call `flush` only when `hasQueuedMessages` is true, so with the
    /// default check above they never call this one.
    public func flush(nowNs: Int64) { update(nowNs: nowNs) }
}

extension Host: DatagramMachine {}
extension Client: DatagramMachine {}

/// The thin driver: moves datagrams between a `DatagramMachine` and a NetCore `UDPSocket` on
/// the calling tasklet, on the monotonic clock. All protocol logic stays in the machine; this
/// only waits for a datagram until the machine's next wake-up, feeds it, updates, sends.
///
/// Coalescing when the loop runs on its own: messages queued while `handle` runs go out
/// together once it has seen every pending event (one flush per pump); messages queued by
/// other tasklets on the loop meanwhile go out at the next flush tick, at most
/// `flushInterval` later, coalesced with whatever else was queued by then.
public enum UDPDriver {
    /// Pumps `machine` over `socket` until `handle` returns false. `handle` sees every event, on
    /// the calling tasklet (it may call `send` or `disconnect` on the machine). Each wait lasts
    /// until the next datagram or the machine's next wake-up, at most `idleWake`, and at most
    /// `flushInterval` (nil: no flush timer; a message then waits for the next datagram or
    /// wake-up). Each flush tick costs one timer wake-up and, when nothing is queued, an O(1)
    /// check; it starts no thread.
    /// Call from a tasklet; the socket is used by this driver alone meanwhile. A `Client` must
    /// have been told to `connect` first.
    /// - Parameters:
    ///   - machine: the `Host` or `Client` to pump.
    ///   - socket: its UDP socket (a host's bound to its port).
    ///   - idleWake: the longest wait with nothing due.
    ///   - flushInterval: the flush timer's period (nil: none).
    ///   - limit: give up after this long (nil: never).
    ///   - handle: sees each event; returning false ends the pump.
    /// - Throws: `NetError` from the socket (a refused port is ignored, as a lost datagram), of
    ///   kind `.timedOut` once `limit` has passed; what `handle` throws; `CancellationError`.
    nonisolated(nonsending) public static func run(
        _ machine: some DatagramMachine, on socket: UDPSocket, idleWake: Duration = .milliseconds(50),
        flushInterval: Duration? = .milliseconds(2), limit: Duration? = nil, _ handle: (GameNetEvent) throws -> Bool
    ) async throws {
        let idleNs = idleWake.wholeNanoseconds
        let flushNs = flushInterval.map { max(1, $0.wholeNanoseconds) }
        let giveUpNs = limit.map { MonotonicClock.nanoseconds() + $0.wholeNanoseconds }
        // The machine's next wake-up, kept across flush ticks that found nothing queued: a Host's
        // costs O(connections), a flush tick must stay O(1).
        var knownWakeNs: Int64?
        while true {
            if let giveUpNs, MonotonicClock.nanoseconds() >= giveUpNs {
                throw NetError(kind: .timedOut, errno: 0, operation: "GameNet UDP driver", context: "limit of \(limit ?? .zero) reached")
            }
            // The events before any send: a message that arrived is in the game's hands before
            // the ack it made due goes out (a send is a syscall; on loopback, the peer's receive too).
            while let event = machine.pollEvent() {
                knownWakeNs = nil  // `handle` may have sent or disconnected
                guard try handle(event) else {
                    try await sendAll(machine.takeDatagrams(), on: socket)  // a disconnect's last words
                    return
                }
            }
            if machine.hasQueuedMessages {
                // What `handle` queued, in as few datagrams as the MTU allows.
                machine.flush(nowNs: MonotonicClock.nanoseconds())
                knownWakeNs = nil
            }
            try await sendAll(machine.takeDatagrams(), on: socket)
            let now = MonotonicClock.nanoseconds()
            let wakeNs = knownWakeNs ?? machine.nextWakeNs ?? now + idleNs
            knownWakeNs = wakeNs
            var wait = max(1_000_000, min(idleNs, wakeNs - now))
            if let flushNs { wait = min(wait, flushNs) }
            var heard = false
            do {
                let (bytes, from) = try await socket.receive(maxBytes: 2_048, timeout: .nanoseconds(wait))
                machine.receive(bytes, from: from, nowNs: MonotonicClock.nanoseconds())
                heard = true
            } catch let error as NetError where error.kind == .timedOut || error.kind == .connectionRefused {
                // Time to update or flush; or an ICMP port-unreachable, which counts as a lost datagram.
            }
            let after = MonotonicClock.nanoseconds()
            if heard {
                // The datagram may have made something due (data to resend, an ack); the rest
                // of `update` waits for its time (a Host's wake-up is O(1) to ask). What it
                // delivered goes to `handle` first, so the ack can ride on what `handle` sends.
                knownWakeNs = nil
                while let event = machine.pollEvent() {
                    guard try handle(event) else {
                        // The ack the datagram made due, and a disconnect's last words.
                        if let due = machine.nextWakeNs, after >= due { machine.update(nowNs: after) }
                        try await sendAll(machine.takeDatagrams(), on: socket)
                        return
                    }
                }
                if let due = machine.nextWakeNs, after >= due { machine.update(nowNs: after) }
            } else if after >= wakeNs {
                machine.update(nowNs: after)
                knownWakeNs = nil
            } else if machine.hasQueuedMessages {
                machine.flush(nowNs: after)  // a flush tick: only what other tasklets queued
                knownWakeNs = nil
            }
        }
    }

    nonisolated(nonsending) private static func sendAll(_ datagrams: [OutgoingDatagram], on socket: UDPSocket) async throws {
        for d in datagrams {
            do { try await socket.send(d.bytes, to: d.to) } catch let error as NetError where error.kind == .connectionRefused {
                // The peer's port is closed (for now): as a lost datagram.
            }
        }
    }
}
