import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// A connected TCP pair of plain blocking descriptors (client, server) over 127.0.0.1.
func blockingTCPPair() throws -> (client: Int32, server: Int32) {
    let (listener, address) = try loopbackListener()
    defer { listener.close() }
    let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    let rc = address.withSockAddr { connect(client, $0, $1) }
    guard rc == 0 else { throw NetError(errno: errno, operation: "connect") }
    var server: Int32 = -1
    for _ in 0..<1000 where server < 0 {  // the handshake is done; accept answers at once
        server = accept(listener.descriptor.fd, nil, nil)
    }
    guard server >= 0 else { throw NetError(errno: errno, operation: "accept") }
    // select(2) takes descriptors below FD_SETSIZE only, and the whole test process (servers of
    // other suites running at the same time) may hold a thousand: take the lowest free numbers.
    return (try lowestFree(client), try lowestFree(server))
}

/// `fd` moved to the lowest free descriptor number (F_DUPFD), the old number closed. When
/// every number below FD_SETSIZE is taken (other suites' servers and children, running at
/// the same time, can hold over a thousand), it waits for one to be freed, up to a minute:
/// select cannot be tested on a higher number, which it refuses by design.
func lowestFree(_ fd: Int32) throws -> Int32 {
    let deadline = ContinuousClock.now + .seconds(60)
    while true {
        let moved = fcntl(fd, F_DUPFD, 3)
        guard moved >= 0 else { throw NetError(errno: errno, operation: "fcntl F_DUPFD") }
        let lowest = min(moved, fd)
        if lowest < 1024 {
            close(max(moved, fd))
            return lowest
        }
        close(moved)
        guard ContinuousClock.now < deadline else {
            close(fd)
            throw TestFailure("no descriptor below 1024 came free within a minute (\(moved) was the lowest)")
        }
        var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)  // the other suites' descriptors are theirs to free
        nanosleep(&pause, nil)
    }
}

/// Closes `fd` with SO_LINGER 0, which resets the connection: the peer gets ECONNRESET.
func resetAndClose(_ fd: Int32) {
    var option = linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    close(fd)
}

/// Waits (bounded) until the reset has reached `fd`, so the test does not race the kernel.
func waitForError(on fd: Int32) {
    var probe = pollfd(fd: fd, events: 0, revents: 0)
    _ = poll(&probe, 1, 2_000)
}

@Suite struct PollTests {
    @Test func pollTimesOutWithNothingReady() throws {
        let (a, b) = try blockingTCPPair()
        defer {
            close(a)
            close(b)
        }
        let start = ContinuousClock.now
        let ready = try Poll.poll([PollRequest(fd: a, events: .readable)], timeout: .milliseconds(30))
        #expect(ready.isEmpty)
        #expect(start.duration(to: .now) >= .milliseconds(30))
    }

    @Test func pollReportsReadableAndWritable() throws {
        let (a, b) = try blockingTCPPair()
        defer {
            close(a)
            close(b)
        }
        _ = send(a, "x", 1, 0)
        let ready = try Poll.poll(
            [PollRequest(fd: a, events: .readable), PollRequest(fd: b, events: [.readable, .writable])],
            timeout: .seconds(2))
        #expect(ready == [PollResult(fd: b, ready: [.readable, .writable], hasError: false)])
    }

    @Test func pollReportsAResetSocketReadyForWhatWasAskedAndTheReadRaises() throws {
        let (client, server) = try blockingTCPPair()
        defer { close(client) }
        resetAndClose(server)
        waitForError(on: client)
        // Waited for writing only: still reported, so the caller's write (or read) hits the error.
        let ready = try Poll.poll([PollRequest(fd: client, events: .writable)], timeout: .seconds(2))
        #expect(ready == [PollResult(fd: client, ready: .writable, hasError: true)])
        var byte: UInt8 = 0
        #expect(recv(client, &byte, 1, 0) == -1)
        #expect(errno == ECONNRESET, "the error was left in place for the caller's next call")
    }

    @Test func whenThePollCallItselfFailsTheReadySetIsRebuilt() throws {
        let (a, b) = try blockingTCPPair()
        let (c, d) = try blockingTCPPair()
        defer { [a, b, c, d].forEach { close($0) } }
        _ = send(a, "x", 1, 0)
        let calls = Box(0)
        // A platform whose poll fails with ECONNRESET when any socket in the set has an error.
        let failing = PollSystemCalls(
            poll: { fds, count, milliseconds in
                calls.value += 1
                if count > 1 { return .error(ECONNRESET) }
                return PollSystemCalls.system.poll(fds, count, milliseconds)
            },
            select: PollSystemCalls.system.select)
        let ready = try Poll.poll(
            [PollRequest(fd: b, events: .readable), PollRequest(fd: d, events: .readable)],
            timeout: .seconds(2), calls: failing)
        #expect(ready == [PollResult(fd: b, ready: .readable, hasError: false)])
        #expect(calls.value == 3, "one failed call, then one check per descriptor")
    }

    @Test func aDescriptorWhoseOwnCheckFailsCountsAsReady() throws {
        let (a, b) = try blockingTCPPair()
        defer {
            close(a)
            close(b)
        }
        let failing = PollSystemCalls(poll: { _, _, _ in .error(ECONNRESET) }, select: PollSystemCalls.system.select)
        let ready = try Poll.poll([PollRequest(fd: b, events: .writable)], timeout: .seconds(1), calls: failing)
        #expect(ready == [PollResult(fd: b, ready: .writable, hasError: true)])
    }

    @Test func pollWithAnInvalidRequestThrows() throws {
        let failing = PollSystemCalls(poll: { _, _, _ in .error(EINVAL) }, select: PollSystemCalls.system.select)
        #expect(throws: NetError.self) {
            try Poll.poll([PollRequest(fd: 0, events: .readable)], timeout: .zero, calls: failing)
        }
    }

    @Test func selectReportsReadyDescriptorsAndTimesOut() throws {
        try lowDescriptorTurns.withLock {
            let (a, b) = try blockingTCPPair()
            defer {
                close(a)
                close(b)
            }
            let idle = try Poll.select(readable: [a, b], writable: [], timeout: .milliseconds(20))
            #expect(idle.readable.isEmpty && idle.writable.isEmpty)
            _ = send(a, "x", 1, 0)
            let ready = try Poll.select(readable: [a, b], writable: [a], timeout: .seconds(2))
            #expect(ready.readable == [b])
            #expect(ready.writable == [a])
        }
    }

    @Test func selectReportsAResetSocketAndTheReadRaises() throws {
        try lowDescriptorTurns.withLock {
            let (client, server) = try blockingTCPPair()
            defer { close(client) }
            resetAndClose(server)
            waitForError(on: client)
            let ready = try Poll.select(readable: [], writable: [client], timeout: .seconds(2))
            #expect(ready.writable == [client])
            var byte: UInt8 = 0
            #expect(recv(client, &byte, 1, 0) == -1)
            #expect(errno == ECONNRESET)
        }
    }

    @Test func whenTheSelectCallFailsTheSetsAreRebuilt() throws {
        try lowDescriptorTurns.withLock {
            let (a, b) = try blockingTCPPair()
            let (client, server) = try blockingTCPPair()
            defer { [a, b, client].forEach { close($0) } }
            _ = send(a, "x", 1, 0)
            resetAndClose(server)
            waitForError(on: client)
            // A platform whose select fails outright because one socket in the set was reset.
            let failing = PollSystemCalls(poll: PollSystemCalls.system.poll, select: { _, _, _, _ in .error(ECONNRESET) })
            let ready = try Poll.select(readable: [a, b, client], writable: [], timeout: .seconds(2), calls: failing)
            #expect(ready.readable == [b, client])
            #expect(ready.writable.isEmpty)
        }
    }

    @Test func selectRefusesDescriptorsBeyondFD_SETSIZE() {
        #expect(throws: NetError.self) { try Poll.select(readable: [5_000], writable: [], timeout: .zero) }
    }
}
