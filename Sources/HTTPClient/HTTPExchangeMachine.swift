import NetCore

/// One request and its response on one connection, with no I/O of its own (as h11's
/// `Connection`): it says what to do next (`Action`), the driver does it on its socket and
/// reports what happened (`Input`). It writes the request, frames the response through
/// `ResponseDecoder` (which owns the connection's read buffer), applies the timeouts of the
/// `RequestClock`, decides keep-alive and the stale-connection retry rule, and lets a
/// Content-Length body be read straight into the reader's buffer.
///
/// The two drivers, `AsyncExchangeDriver` (parking on the loop) and `BlockingExchangeDriver`
/// (blocking on a worker), hold no HTTP logic: each is a short loop over these actions.
struct HTTPExchangeMachine {
    /// What the driver must do next.
    enum Action {
        /// Write every one of these bytes (the request head and body) within `wait.limit`.
        case write([UInt8], RequestClock.Wait)
        /// Get the streamed body's next chunk from the request's `RequestBodyReader`, then
        /// report `.bodyChunk` (nil at its end).
        case nextBodyChunk
        /// Read what is there into this window of the machine's own buffer, then report
        /// `.received(n)` (n > 0) or `.endOfStream`.
        case readIntoMachine(UnsafeMutableRawBufferPointer, RequestClock.Wait)
        /// Read body bytes straight into this part of the caller's buffer (no copy), then
        /// report as for `readIntoMachine`.
        case readBody(UnsafeMutableRawBufferPointer, RequestClock.Wait)
        /// The final head has arrived (`head`). `reuse` is set when the message ended with it
        /// (no body): the connection goes back to the pool (true) or is closed (false).
        case headReady(reuse: Bool?)
        /// `count` body bytes are in the caller's buffer. `reuse` as for `headReady`.
        case deliver(Int, reuse: Bool?)
        /// The body ended (nothing delivered): keep the connection (true) or close it.
        case finished(reuse: Bool)
        /// The exchange failed; close the connection. `retryable`: the stale-connection rule
        /// holds (a reused connection, nothing received, an idempotent method, a reset, a
        /// broken pipe or an end before any byte), so the same request may go on a new connection.
        case failed(any Error, retryable: Bool)
    }

    /// The I/O an action asks for: all a driver does.
    enum IO {
        /// Write every byte within the timeout; then report `.wrote`.
        case write([UInt8], timeout: Duration?)
        /// Read what is there into the buffer, waiting up to the timeout for a first byte;
        /// then report `Input.read(_:endedWithoutCloseNotify:)`.
        case read(UnsafeMutableRawBufferPointer, timeout: Duration?)
        /// The streamed body's next chunk; then report `.bodyChunk`.
        case nextBodyChunk
    }

    /// Where body bytes go while a step runs.
    enum Destination {
        /// No body read: open (send the request and read the head) or, once the head is
        /// there, drain (read and drop a short body so the connection may be reused; a long
        /// one ends in `finished(reuse: false)`).
        case none
        /// The caller's buffer: `deliver(n)` means n bytes at its start.
        case caller(UnsafeMutableRawBufferPointer)
        /// The machine's own buffer: `deliver(n)` means n bytes wait there, to be taken whole
        /// with `takePendingChunk()` before the next step (a chunk for a reader that wants arrays).
        case machineBuffer
    }

    /// What happened to the last action.
    enum Input {
        /// Nothing yet: the first call.
        case start
        /// The `write` completed.
        case wrote
        /// A read put `n` (> 0) bytes where the action said.
        case received(Int)
        /// A read found the end of the stream. `incompleteClose`: TLS without close_notify.
        case endOfStream(incompleteClose: Bool)
        /// The I/O of the last action threw this.
        case ioFailed(any Error)
        /// The streamed body's next chunk (not empty), or nil at its end.
        case bodyChunk([UInt8]?)
    }

    /// sending: the head (and a whole body sent with it); awaitingContinue: `Expect:
    /// 100-continue` waits for the 100 (or its timeout); sendingBody: the body after the head.
    private enum Phase { case sending, awaitingContinue, sendingBody, awaitingHead, body, ended }
    /// How a body sent after the head is framed.
    private enum BodyFraming {
        case length(Int)
        case chunked
    }
    /// Where the bytes of the pending read go.
    private enum ReadTarget {
        /// The decoder's window, through the parser.
        case machine
        /// Body bytes into the caller's buffer.
        case caller
        /// Body bytes into the decoder's window, kept there as a chunk (no parser copy).
        case machineDirect
        /// Body bytes into the decoder's window, dropped.
        case discarded
    }

    private var decoder: ResponseDecoder
    private var phase = Phase.sending
    private var message: [UInt8]
    private let clock: RequestClock
    private let mayRetry: Bool
    private var headDeadline: ContinuousClock.Instant?
    private var lastWait: RequestClock.Wait = (nil, .idle)
    private var target = ReadTarget.machine
    /// Body bytes that may still be read and dropped by a drain before it gives up.
    private var drainBudget = HTTPReadSizes.drainBudget
    private var outcome: Action?
    /// Whether the body is being read and dropped (`next` was called with no destination).
    private var draining = false
    /// `MonotonicClock` nanoseconds when the exchange was made (its request about to be
    /// written), and when the first response byte arrived (0: not yet).
    private let startedAt = MonotonicClock.nanoseconds()
    private var firstByteAt: Int64 = 0
    /// A streamed body's framing (nil: none, or a whole body sent with the head).
    private let streaming: BodyFraming?
    /// A whole body held back until 100 Continue.
    private var heldBody: [UInt8]?
    private var bodyBytesSent = 0
    private var bodySent = false
    /// `message` holds body bytes to write next.
    private var bodyWritePending = false
    private let expectsContinue: Bool
    private let continueTimeout: Duration
    private var continueDeadline: ContinuousClock.Instant?
    /// The final head came before the body was sent: the connection cannot be reused.
    private var bodySkipped = false
    /// A write of the body after the head found the server gone (reset, broken pipe): its
    /// answer may be waiting (a 413 sent before it closed), so the head is read, and this is
    /// the error reported if none comes.
    private var bodyWriteError: (any Error)?
    /// The last action was a write of body bytes after the head (not a chunk asked of the
    /// source, whose own errors are the caller's).
    private var writingBody = false

    /// - Parameters:
    ///   - request: what is sent; its method decides whether a response may have a body and
    ///     whether a failure on a reused connection may be retried.
    ///   - head: the serialized request head (`RequestWriter.head`).
    ///   - reused: the connection came from the pool (it may have been closed by the server).
    ///   - buffer: the connection's read buffer, used by this exchange alone until it ends.
    init(
        request: HTTPRequest, head: [UInt8], reused: Bool, buffer: ReadBuffer, clock: RequestClock,
        limits: HTTPParserLimits, continueTimeout: Duration = .seconds(1)
    ) {
        decoder = ResponseDecoder(requestMethod: request.method, limits: limits, buffer: buffer)
        message = head
        streaming = request.streamingBody.map { $0.length.map(BodyFraming.length) ?? .chunked }
        expectsContinue = request.expectsContinue && (request.body != nil || request.streamingBody != nil)
        self.continueTimeout = continueTimeout
        if let body = request.body {
            if expectsContinue { heldBody = body } else { message += body }
        }
        self.clock = clock
        // A streamed body is sent once: it cannot be sent again on a new connection.
        mayRetry = reused && Self.isIdempotent(request.method) && request.streamingBody == nil
    }

    /// The final response head, once `headReady` was returned.
    var head: HTTPResponseHead? { decoder.head }

    /// `setup` (the lease's connection timings) with this exchange's time to its first response byte.
    func timings(setup: RequestTimings) -> RequestTimings {
        var timings = setup
        timings.firstByte = .nanoseconds(max(0, (firstByteAt == 0 ? MonotonicClock.nanoseconds() : firstByteAt) - startedAt))
        return timings
    }

    /// The bytes a chunk read next should ask for, at most `limit`: what is left of a
    /// Content-Length body when that is less (a small body does not cost a large array).
    func chunkCapacity(limit: Int) -> Int {
        let direct = decoder.directLimit
        return direct > 0 ? min(limit, direct) : min(limit, decoder.capacity)
    }

    /// Body bytes buffered here and not yet delivered.
    var pendingBodyCount: Int { decoder.pendingCount }

    /// The next buffered body chunk, whole, with no I/O; nil if none.
    mutating func takePendingChunk() -> [UInt8]? { decoder.takePendingChunk() }

    /// Takes what happened and says what to do next. Cost: no system call, no allocation
    /// beyond the parser's (a chunked body's pieces, a head's fields).
    /// - Parameter destination: where body bytes go in this step (pass the same one for every
    ///   call of a step, from the first, with `.start`, to a `headReady`, `deliver`,
    ///   `finished` or `failed`).
    mutating func next(_ input: Input, into destination: Destination) -> Action {
        if let outcome { return outcome }
        do {
            if let delivered = try take(input) { return delivered }
            return try nextStep(into: destination)
        } catch {
            // No head after a failed body write: the write's error is what happened.
            let error = decoder.head == nil ? bodyWriteError ?? error : error
            return end(.failed(error, retryable: mayRetry && !decoder.receivedAnything && Self.isStaleConnectionError(error)))
        }
    }

    /// Applies `input`. - Returns: a delivery when body bytes just landed in the caller's buffer.
    private mutating func take(_ input: Input) throws -> Action? {
        switch input {
        case .start:
            return nil
        case .wrote:
            message = []
            writingBody = false
            switch phase {
            case .sending where expectsContinue:
                phase = .awaitingContinue
                continueDeadline = ContinuousClock.now + continueTimeout
            case .sending where streaming != nil:
                phase = .sendingBody
            case .sendingBody where !bodySent:
                break
            default:
                awaitHead()
            }
            return nil
        case .bodyChunk(let chunk):
            try frame(chunk)
            return nil
        case .received(let count):
            switch target {
            case .machine:
                if firstByteAt == 0 { firstByteAt = MonotonicClock.nanoseconds() }
                do { try decoder.ingestRead(count) } catch { throw clock.wrap(error, lastWait) }
                if draining { drainBudget -= count }
                return nil
            case .caller:
                decoder.acceptDirect(count)
                return .deliver(count, reuse: endedReuse())
            case .machineDirect:
                decoder.acceptDirectInWindow(count)
                return nil
            case .discarded:
                decoder.acceptDirect(count)
                drainBudget -= count
                return nil
            }
        case .endOfStream(let incompleteClose):
            do { try decoder.ingestEndOfStream(incompleteClose: incompleteClose) } catch { throw clock.wrap(error, lastWait) }
            return nil
        case .ioFailed(let error):
            if phase == .awaitingContinue, Self.isTimeout(error), let continueDeadline, ContinuousClock.now >= continueDeadline {
                sendBodyWithoutContinue()  // no 100 in time: send the body anyway, as curl does
                return nil
            }
            let wrapped = clock.wrap(error, lastWait)
            if phase == .sendingBody, writingBody, bodyWriteError == nil, Self.isPeerGoneError(wrapped) {
                // The server closed while the body was going out, perhaps after answering
                // early (a 413 for an upload over its limit): read that answer, as curl does.
                // The rest of the body is not sent; the connection is not reused.
                bodyWriteError = wrapped
                bodySkipped = true
                awaitHead()
                return nil
            }
            throw wrapped
        }
    }

    /// The request is all sent: the head is awaited from now on.
    private mutating func awaitHead() {
        phase = .awaitingHead
        headDeadline = clock.headDeadline()
    }

    /// The body goes out after the head: the held whole one, or the stream's chunks.
    private mutating func sendBodyWithoutContinue() {
        phase = .sendingBody
        if let held = heldBody {
            heldBody = nil
            message = held
            bodyWritePending = true
            bodySent = true
        }
    }

    /// Frames a streamed body's chunk (nil: its end) into `message` for the next write.
    /// - Throws: `HTTPClientError.invalidRequest` when the source gives more or fewer bytes
    ///   than the length it announced.
    private mutating func frame(_ chunk: [UInt8]?) throws {
        guard let streaming else { throw HTTPClientError.invalidRequest("internal: a body chunk for a request without a stream") }
        if let chunk {
            bodyBytesSent += chunk.count
            switch streaming {
            case .length(let total):
                guard bodyBytesSent <= total else {
                    throw HTTPClientError.invalidRequest("the streamed body has more than its length of \(total) bytes")
                }
                message = chunk
            case .chunked:
                message = Array(String(chunk.count, radix: 16).utf8) + [0x0D, 0x0A] + chunk + [0x0D, 0x0A]
            }
            bodyWritePending = true
            return
        }
        bodySent = true
        switch streaming {
        case .length(let total):
            guard bodyBytesSent == total else {
                throw HTTPClientError.invalidRequest("the streamed body ended after \(bodyBytesSent) of its \(total) bytes")
            }
            awaitHead()
        case .chunked:
            message = Array("0\r\n\r\n".utf8)
            bodyWritePending = true
        }
    }

    static func isTimeout(_ error: any Error) -> Bool {
        if error is TimeoutError { return true }
        if let error = error as? NetError { return error.kind == .timedOut }
        return false
    }

    private mutating func nextStep(into destination: Destination) throws -> Action {
        switch phase {
        case .sending:
            return .write(message, try wait())
        case .awaitingContinue:
            if decoder.head != nil {
                // A final answer instead of the 100: it is the response; the body stays unsent.
                bodySkipped = true
                phase = .body
                return .headReady(reuse: endedReuse())
            }
            if decoder.interimResponseCount > 0 {
                sendBodyWithoutContinue()
                return try nextStep(into: destination)
            }
            var wait = try wait()
            if let continueDeadline {
                let left = max(.milliseconds(1), continueDeadline - .now)
                if wait.limit.map({ $0 > left }) ?? true { wait.limit = left }
            }
            lastWait = wait
            target = .machine
            return .readIntoMachine(decoder.readWindow, wait)
        case .sendingBody:
            if bodyWritePending {
                bodyWritePending = false
                writingBody = true
                return .write(message, try wait())
            }
            if bodySent {
                awaitHead()
                return try nextStep(into: destination)
            }
            return .nextBodyChunk
        case .awaitingHead:
            guard decoder.head == nil else {
                phase = .body
                return .headReady(reuse: endedReuse())
            }
            return try readIntoMachine()
        case .body:
            draining = false
            switch destination {
            case .none:
                draining = true
                return try drainStep()
            case .machineBuffer:
                return try chunkStep()
            case .caller(let destination):
                return try callerStep(destination)
            }
        case .ended:
            return end(.finished(reuse: false))
        }
    }

    /// A read into the caller's buffer: buffered bytes first, then straight from the connection.
    private mutating func callerStep(_ destination: UnsafeMutableRawBufferPointer) throws -> Action {
        let copied = decoder.copyPending(into: destination)
        if copied > 0 { return .deliver(copied, reuse: endedReuse()) }
        if decoder.isFinished { return bodyEnded() }
        return try bodyRead(into: destination, as: .caller)
    }

    /// A chunk read: it stays in the machine's buffer, and the reader takes it whole.
    private mutating func chunkStep() throws -> Action {
        let pending = decoder.pendingCount
        if pending > 0 { return .deliver(pending, reuse: nil) }
        if decoder.isFinished { return bodyEnded() }
        return try bodyRead(into: decoder.readWindow, as: .machineDirect)
    }

    /// A drain's step: drop what is buffered, read more into the machine's own buffer.
    private mutating func drainStep() throws -> Action {
        drainBudget -= decoder.dropPending()
        if decoder.isFinished { return bodyEnded() }
        guard drainBudget > 0 else { return end(.finished(reuse: false)) }  // too long to wait for
        return try bodyRead(into: decoder.readWindow, upTo: drainBudget, as: .discarded)
    }

    /// The body ended with nothing left to deliver: the connection's fate is the head's.
    private mutating func bodyEnded() -> Action { end(.finished(reuse: !bodySkipped && (decoder.head?.keepAlive ?? false))) }

    /// Body bytes straight into `window` (at most `limit`, and what the framing allows), to
    /// be handled as `kind`; through the parser when the framing allows no direct read
    /// (chunk sizes, or bytes already buffered).
    private mutating func bodyRead(
        into window: UnsafeMutableRawBufferPointer, upTo limit: Int = .max,
        as kind: ReadTarget
    ) throws -> Action {
        let direct = min(decoder.directLimit, window.count, limit)
        guard direct > 0 else { return try readIntoMachine() }
        let wait = try wait()
        target = kind
        let part = UnsafeMutableRawBufferPointer(rebasing: window[0..<direct])
        return kind == .caller ? .readBody(part, wait) : .readIntoMachine(part, wait)
    }

    private mutating func readIntoMachine() throws -> Action {
        let wait = try wait()
        target = .machine
        return .readIntoMachine(decoder.readWindow, wait)
    }

    /// The timeout of the next wait; the head timeout counts while the head is awaited.
    private mutating func wait() throws -> RequestClock.Wait {
        lastWait = try clock.next(.idle, headDeadline: phase == .awaitingHead ? headDeadline : nil)
        return lastWait
    }

    /// The connection's fate if the message has ended with nothing left to deliver.
    private mutating func endedReuse() -> Bool? {
        guard decoder.isFinished, !decoder.hasPending, let head = decoder.head else { return nil }
        phase = .ended
        return head.keepAlive && !bodySkipped
    }

    /// Records a last action: every later `next` returns it again.
    private mutating func end(_ action: Action) -> Action {
        phase = .ended
        switch action {
        case .finished: outcome = .finished(reuse: false)  // already settled: later reads just end
        default: outcome = action
        }
        return action
    }

    static func isIdempotent(_ method: String) -> Bool {
        ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"].contains(method)
    }

    /// A write that failed because the peer has closed or reset the connection.
    static func isPeerGoneError(_ error: any Error) -> Bool {
        guard case HTTPClientError.network(let error) = error else { return false }
        return error.kind == .connectionReset || error.kind == .brokenPipe
    }

    /// The ways a keep-alive connection the server already closed shows up on first use.
    static func isStaleConnectionError(_ error: any Error) -> Bool {
        switch error {
        case HTTPClientError.network(let error): return error.kind == .connectionReset || error.kind == .brokenPipe
        case HTTPClientError.parse(.truncated): return true
        default: return false
        }
    }
}

extension HTTPExchangeMachine.Action {
    /// The I/O this action asks for; nil for an action that ends a step.
    var io: HTTPExchangeMachine.IO? {
        switch self {
        case .write(let bytes, let wait): return .write(bytes, timeout: wait.limit)
        case .readIntoMachine(let buffer, let wait), .readBody(let buffer, let wait): return .read(buffer, timeout: wait.limit)
        case .nextBodyChunk: return .nextBodyChunk
        case .headReady, .deliver, .finished, .failed: return nil
        }
    }
}

extension HTTPExchangeMachine.Input {
    /// What a read of `count` bytes means: data, or the end of the stream (0).
    /// - Parameter endedWithoutCloseNotify: the stream's, read after the read.
    static func read(_ count: Int, endedWithoutCloseNotify: Bool) -> Self {
        count > 0 ? .received(count) : .endOfStream(incompleteClose: endedWithoutCloseNotify)
    }
}
