import NetCore

extension UDPDriver {
    /// Pumps `machine` over `socket` until the monotonic clock reaches `untilNs`, then returns:
    /// for a game that pumps once per frame or tick and sends in between (`run` returns only
    /// when its handler says so). It first updates the machine, so that what was queued since
    /// the last call goes out at once; then, as `run`, it waits for a datagram or the machine's
    /// next wake-up (never past `untilNs`), feeds it, updates, sends, and hands every event to
    /// `handle` (which may call `send` or `disconnect` on the machine; what they queue goes out
    /// on the next cycle). A deadline already past still makes one update-send-events cycle.
    ///
    /// `coalesceNs` is the short flush timer of a host with many peers: datagrams that arrive
    /// within it of the last update are fed without an update of their own, and one update
    /// follows at the end of the interval. `Host.update` visits every connection, so with a
    /// thousand peers an update per datagram costs more than the datagrams; 0 (the default)
    /// updates after each datagram, as `run` does.
    /// Call from a tasklet; the socket is used by this driver alone meanwhile. Starts no thread.
    /// - Throws: `NetError` from the socket (a refused port is ignored, as a lost datagram);
    ///   what `handle` throws; `CancellationError`.
    nonisolated(nonsending) public static func pump(
        _ machine: some DatagramMachine, on socket: UDPSocket, untilNs: Int64, coalesceNs: Int64 = 0,
        _ handle: (GameNetEvent) throws -> Void
    ) async throws {
        var fedSinceUpdate = true  // the caller may have queued messages: update first
        var lastUpdateNs = Int64.min / 2
        var wakeNs: Int64? = nil
        while true {
            var now = MonotonicClock.nanoseconds()
            let due = wakeNs.map { now >= $0 } ?? false
            if now >= untilNs || due || (fedSinceUpdate && now - lastUpdateNs >= coalesceNs) {
                machine.update(nowNs: now)
                lastUpdateNs = now
                fedSinceUpdate = false
                for datagram in machine.takeDatagrams() {
                    do { try await socket.send(datagram.bytes, to: datagram.to) } catch let error as NetError
                        where error.kind == .connectionRefused
                    {
                        // The peer's port is closed (for now): as a lost datagram.
                    }
                }
                while let event = machine.pollEvent() { try handle(event) }
                wakeNs = machine.nextWakeNs
                now = MonotonicClock.nanoseconds()
                if now >= untilNs { return }
            }
            var until = min(untilNs, wakeNs ?? untilNs)
            if fedSinceUpdate { until = min(until, lastUpdateNs + coalesceNs) }
            do {
                // At least 50 µs: the loop's timers are coarser than that anyway.
                let (bytes, from) = try await socket.receive(maxBytes: 2_048, timeout: .nanoseconds(max(50_000, until - now)))
                machine.receive(bytes, from: from, nowNs: MonotonicClock.nanoseconds())
                fedSinceUpdate = true
            } catch let error as NetError where error.kind == .timedOut || error.kind == .connectionRefused {
                // Time to update; or an ICMP port-unreachable, which counts as a lost datagram.
            }
        }
    }
}
