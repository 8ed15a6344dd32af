import NetCore

extension UDPDriver {
    /// Pumps `machine` over `socket` until the monotonic clock reaches `untilNs`, then returns:
    /// for a game that pumps once per frame or tick and sends in between (`run` returns only
    /// when its handler says so). As `run`, it hands every pending event to `handle` (which
    /// may call `send` or `disconnect` on the machine), flushes what was queued since the last
    /// flush (between calls, or by `handle`) in one go and sends, then waits for a datagram or
    /// the machine's next wake-up (never past `untilNs`), feeds it and updates when the machine
    /// is due (after handing `handle` what the datagram delivered, so the ack it made due can ride
    /// on a reply); and again. A deadline already past still makes one events-flush-send cycle.
    /// It keeps the machine's next wake-up between datagrams that change nothing, as `run` does,
    /// so a host's cost per datagram stays O(1) in its peers.
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
            // The events before any send: a message that arrived is in the game's hands before
            // the ack it made due goes out (a send is a syscall; on loopback, the peer's receive too).
            while let event = machine.pollEvent() {
                try handle(event)
                knownWakeNs = nil  // `handle` may have sent or disconnected
            }
            if machine.hasQueuedMessages {
                // What was queued since the last flush (between pumps, or by `handle`), in as
                // few datagrams as the MTU allows.
                machine.flush(nowNs: MonotonicClock.nanoseconds())
                knownWakeNs = nil
            }
            try await sendEach(machine.takeDatagrams(), on: socket)
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
                // What it delivered goes to `handle` before `update` builds the ack it made due
                // (which then rides on what `handle` sent, if anything).
                while let event = machine.pollEvent() { try handle(event) }
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
