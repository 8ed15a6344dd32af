import NetCore

extension UDPDriver {
    /// Pumps `machine` over `socket` until the monotonic clock reaches `untilNs`, then returns:
    /// for a game that pumps once per frame or tick and sends in between (`run` returns only
    /// when its handler says so). It first flushes what was queued since the last call, then,
    /// as `run`, waits for a datagram or the machine's next wake-up (never past `untilNs`),
    /// feeds it, updates when the machine is due, sends, and hands every event to `handle`
    /// (which may call `send` or `disconnect` on the machine; what it queues goes out in one
    /// flush once the events are handled). A deadline already past still makes one
    /// flush-send-events cycle. It keeps the machine's next wake-up between datagrams that
    /// change nothing, as `run` does, so a host's cost per datagram stays O(1) in its peers.
    /// Call from a tasklet; the socket is used by this driver alone meanwhile. Starts no thread.
    /// - Throws: `NetError` from the socket (a refused port is ignored, as a lost datagram);
    ///   what `handle` throws; `CancellationError`.
    nonisolated(nonsending) public static func pump(
        _ machine: some DatagramMachine, on socket: UDPSocket, untilNs: Int64, _ handle: (GameNetEvent) throws -> Void
    ) async throws {
        var knownWakeNs: Int64?
        let start = MonotonicClock.nanoseconds()
        if let due = machine.nextWakeNs, start >= due { machine.update(nowNs: start) }
        while true {
            if machine.hasQueuedMessages {
                machine.flush(nowNs: MonotonicClock.nanoseconds())
                knownWakeNs = nil
            }
            try await sendEach(machine.takeDatagrams(), on: socket)
            var handled = false
            while let event = machine.pollEvent() {
                try handle(event)
                handled = true
            }
            if handled {
                knownWakeNs = nil  // `handle` may have sent or disconnected
                if machine.hasQueuedMessages {
                    // What `handle` queued, in as few datagrams as the MTU allows.
                    machine.flush(nowNs: MonotonicClock.nanoseconds())
                }
                try await sendEach(machine.takeDatagrams(), on: socket)
            }
            let now = MonotonicClock.nanoseconds()
            if now >= untilNs { return }
            let wakeNs = knownWakeNs ?? machine.nextWakeNs ?? untilNs
            knownWakeNs = wakeNs
            var heard = false
            do {
                // At least 50 µs: the loop's timers are coarser than that anyway.
                let (bytes, from) = try await socket.receive(
                    maxBytes: 2_048, timeout: .nanoseconds(max(50_000, min(untilNs, wakeNs) - now)))
                machine.receive(bytes, from: from, nowNs: MonotonicClock.nanoseconds())
                heard = true
            } catch let error as NetError where error.kind == .timedOut || error.kind == .connectionRefused {
                // Time to update; or an ICMP port-unreachable, which counts as a lost datagram.
            }
            let after = MonotonicClock.nanoseconds()
            if heard {
                knownWakeNs = nil
                if let due = machine.nextWakeNs, after >= due { machine.update(nowNs: after) }
            } else if after >= wakeNs {
                machine.update(nowNs: after)
                knownWakeNs = nil
            }
        }
    }

    nonisolated(nonsending) private static func sendEach(_ datagrams: [OutgoingDatagram], on socket: UDPSocket) async throws {
        for d in datagrams {
            do { try await socket.send(d.bytes, to: d.to) } catch let error as NetError where error.kind == .connectionRefused {
                // The peer's port is closed (for now): as a lost datagram.
            }
        }
    }
}
