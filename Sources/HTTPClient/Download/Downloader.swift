import Logging
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// Downloads one resource into a `DownloadSink`, the way a download manager should: retries
/// transient failures with exponential back-off and resumes each time with `Range` from the
/// last stored byte; checks every answer to a range (a 200 restarts from zero, a changed ETag
/// or Last-Modified restarts the file, a 206 must start where asked: `Client` checks that);
/// splits a large resource into `connections` ranges fetched at once (like aria2 -x); limits
/// the byte rate. Shared by `netget` and the soak tester.
///
/// Thread rule: call `run` from any task. From a tasklet it runs in place, and the sink and the
/// event handler are called on that loop's thread; `resumeState` can be read at any moment (on
/// that thread) to save progress. From anywhere else (a plain `Task`, an actor) the download
/// runs in a tasklet of the client's home loop (`HTTPClientConfiguration.loop`, or the thread
/// the client starts: see `Client`), the sink and handler are called on that loop's thread, and
/// the caller must not touch them (nor read this downloader's state) until `run` returns;
/// cancelling the caller's task cancels the download, and `run` returns only once it has
/// stopped. One `run` at a time per downloader.
/// It starts no thread itself: its requests start what `client` would (none for the loop
/// engine to an IP literal; see `Client.init` and `HTTPClientConfiguration.resolver`).
public final class Downloader: @unchecked Sendable {  // loop-thread confined, see above
    /// The client every request goes through (its configuration: timeouts, TLS, proxy, logger).
    public let client: Client
    /// The client's logger: retries (with their reasons) and restarts, at debug level.
    private var log: Logger { client.configuration.logger }
    /// The options this downloader was made with.
    public let options: DownloadOptions
    private let backoff: Backoff
    private let rateLimiter: RateLimiter?

    private var spans: [ByteSpan] = []
    private var etag: String?
    private var lastModified: String?
    private var totalLength: UInt64?
    private var finalURL: HTTPURL?
    private var suggestedFilename: String?
    private var started = false
    /// Bumped by every restart: a tasklet that began before it must not touch the spans.
    private var generation = 0
    /// False once a 206 came without the validator its If-Range named: from then on every
    /// resume compares an overlap.
    private var serverProvesVersions = true
    private var retries = 0
    /// The conditional first request was answered 304 (`DownloadOptions.condition`).
    private var notModified = false
    private var bytesFetched: UInt64 = 0
    private var events: (DownloadEvent) -> Void = { _ in }
    private var sink: DownloadSink?
    /// Who may see the credential headers: the origin of the URL `run` was given.
    private var credentialScope: CredentialScope?
    /// The credential for that origin: the options', else the URL's userinfo.
    private var credential: HTTPCredential?

    /// A downloader for one resource at a time; makes nothing until `run` (no request, no thread).
    public init(client: Client, options: DownloadOptions = DownloadOptions()) {
        self.client = client
        self.options = options
        backoff = Backoff(base: options.retryBaseDelay, cap: options.maxRetryDelay)
        rateLimiter = options.rateLimit.map(RateLimiter.init(bytesPerSecond:))
    }

    /// Retries made so far (also after a failure, when no `DownloadResult` comes back).
    public var retryCount: Int { retries }

    /// The status of the last response head received (after redirects; a failed download's
    /// error status too), for a summary; nil before the first. Loop thread only.
    public private(set) var lastStatus: Int?
    /// The URL that answered last (after redirects), for a summary; nil before the first response.
    public private(set) var lastURL: HTTPURL?
    /// The timings (`RequestTimings`) of the first response head this download received (its
    /// first request's final hop, before any retry or segment; a connection reused from the
    /// pool reports zero set-up), for a summary; nil before the first response. Loop thread only.
    public private(set) var firstTimings: RequestTimings?

    /// What a later run needs to continue from here.
    public var resumeState: ResumeState {
        ResumeState(
            etag: etag, lastModified: lastModified, totalLength: totalLength,
            remaining: spans.filter { !$0.isComplete })
    }

    /// Downloads `url` into `sink`, continuing `resume` if given, within `options.maxTime`
    /// (a libev timer; no thread) and the other limits of `options`.
    /// - Throws: `HTTPClientError` or `DownloadError` once retries are spent (or at once for a
    ///   permanent failure: `.maxTimeExceeded`, `.tooLarge`, ...), `CancellationError`. The sink
    ///   keeps what was stored; `resumeState` says what is missing.
    public func run(
        url: HTTPURL, sink: DownloadSink, resume: ResumeState? = nil,
        events: @escaping (DownloadEvent) -> Void = { _ in }
    ) async throws -> DownloadResult {
        guard Loop.current != nil else {
            return try await runFromOutside(url: url, sink: sink, resume: resume, events: events)
        }
        self.sink = sink
        self.events = events
        // Let go of both on return: a sink or handler that holds this downloader (netget's job
        // does) would otherwise keep the pair, and every buffer they hold, alive for good.
        defer {
            self.sink = nil
            self.events = { _ in }
        }
        credentialScope = CredentialScope(
            for: url, extraNames: options.credentialHeaderNames,
            trustsEveryOrigin: options.locationTrusted)
        credential = options.credential ?? url.credential
        spans = resume?.remaining ?? [ByteSpan(next: 0, end: nil)]
        etag = resume?.etag
        lastModified = resume?.lastModified
        totalLength = resume?.totalLength
        let resumedFrom = resume?.storedBytes ?? 0
        if spans.isEmpty, let totalLength {
            // A resume of a download that had already stored everything: nothing to fetch.
            return DownloadResult(
                finalURL: url, totalBytes: totalLength, bytesFetched: 0, retries: 0,
                resumedFrom: resumedFrom, etag: etag, lastModified: lastModified, suggestedFilename: nil)
        }
        if spans.isEmpty { spans = [ByteSpan(next: 0, end: nil)] }
        guard let maxTime = options.maxTime else { return try await fetchWithRestarts(url: url, resume: resume, resumedFrom: resumedFrom) }
        // One deadline over every attempt, back-off and restart: the body is cancelled when it
        // passes (its tasklets stop as on Ctrl-C, the sink keeping what it stored).
        let deadline = ContinuousClock.now + maxTime
        do {
            return try await withDeadline(deadline) { [self] in
                try await fetchWithRestarts(url: url, resume: resume, resumedFrom: resumedFrom)
            }
        } catch is TimeoutError where ContinuousClock.now >= deadline {
            throw DownloadError.maxTimeExceeded(maxTime)
        }
    }

    /// `run` after its set-up: every span, starting over when a segment saw another version.
    private func fetchWithRestarts(url: HTTPURL, resume: ResumeState?, resumedFrom: UInt64) async throws -> DownloadResult {
        var restarts = 0
        while true {
            do {
                try await fetchAll(url: url, maySplit: resume == nil && options.connections > 1)
                break
            } catch DownloadError.resourceChanged where restarts < options.retries {
                // A segment saw another version of the file: everything starts over.
                restarts += 1
                retries += 1
                try await restartFromZero(reason: "the file changed on the server")
            }
        }
        return DownloadResult(
            finalURL: finalURL ?? url, totalBytes: totalLength ?? spans.first.map(\.next) ?? 0,
            bytesFetched: bytesFetched, retries: retries, resumedFrom: resumedFrom, etag: etag,
            lastModified: lastModified, suggestedFilename: suggestedFilename, notModified: notModified)
    }

    /// Fetches every span: the first in this tasklet, the others (a resumed split, or the
    /// split made after the first head) in tasklets of their own.
    private func fetchAll(url: HTTPURL, maySplit: Bool) async throws {
        guard let loop = Loop.current else { throw LoopError.notOnLoopThread("download") }
        let results = Channel<Result<Void, any Error>>(capacity: 64)
        var helpers: [TaskletHandle<Void>] = []
        // Spans whose helper the loop's tasklet limit refused: this tasklet fetches them itself.
        var unstarted: [Int] = []
        let startHelper = { [self] (index: Int) in
            let helper = try? loop.trySpawn(name: "segment \(index)") { [self] in
                do {
                    try await fetchSpan(index, url: finalURL ?? url, mayRestart: false, split: nil)
                    try await results.send(.success(()))
                } catch {
                    try? await results.send(.failure(error))
                }
            }
            if let helper { helpers.append(helper) } else { unstarted.append(index) }
        }
        for index in spans.indices.dropFirst() where !spans[index].isComplete { startHelper(index) }
        do {
            let split: (() -> Void)? =
                maySplit && spans.count == 1
                ? { [self] in
                    for index in splitFirstSpan() { startHelper(index) }
                } : nil
            try await fetchSpan(0, url: url, mayRestart: spans.count == 1, split: split)
            for index in unstarted { try await fetchSpan(index, url: finalURL ?? url, mayRestart: false, split: nil) }
            var firstError: (any Error)?
            for _ in helpers.indices {
                if case .failure(let error) = try await results.receive(), firstError == nil {
                    firstError = error
                    for helper in helpers { helper.cancel() }
                }
            }
            if let firstError { throw firstError }
        } catch {
            for helper in helpers { helper.cancel() }
            // Every helper must be over before anything touches the spans or the sink again: a
            // restart empties the file and gives the writer's buffers back, and a helper woken
            // (not parked) when it was cancelled still finishes the read it had begun.
            for helper in helpers { _ = try? await helper.value }
            throw error
        }
    }

    /// Cuts the first span into `connections` parts once the length is known and ranges are
    /// honoured. - Returns: the indices of the new spans.
    private func splitFirstSpan() -> [Int] {
        guard let total = totalLength, spans.count == 1, spans[0].end == nil else { return [] }
        let parts = Int(min(UInt64(options.connections), total / options.minimumSegment))
        guard parts > 1 else { return [] }
        // Boundaries on 1 MiB multiples: a sink writing with O_DIRECT needs aligned offsets.
        let size = max(1 << 20, total / UInt64(parts) / (1 << 20) * (1 << 20))
        spans[0].end = size - 1
        for part in 1..<parts {
            let first = UInt64(part) * size
            spans.append(ByteSpan(next: first, end: part == parts - 1 ? total - 1 : first + size - 1))
        }
        return Array(1..<parts)
    }

    /// Fetches span `index` to its end, retrying transient failures from where it stopped.
    private func fetchSpan(_ index: Int, url: HTTPURL, mayRestart: Bool, split: (() -> Void)?) async throws {
        var split = split
        var attempt = 0
        let buffer = SpanReadBuffer(capacity: options.readSize)
        while !spans[index].isComplete {
            let span = spans[index]
            var request = HTTPRequest(url: finalURL ?? url, headers: options.headers)
            if let credentialScope { request.credentialScope = credentialScope }
            // The named URL's credential, on every segment, retry and resume of the final one.
            request.credential = credential
            let wantsRange = span.next > 0 || span.end != nil
            // Without a validator that the server is seen to honour, the bytes already stored just
            // before the resume point are asked for again and compared with the stored ones, so
            // a changed file is never appended to.
            var overlap = 0
            if wantsRange {
                if sink is DownloadReadBack && (ifRangeValidator == nil || !serverProvesVersions) {
                    overlap = storedRun(before: span.next, of: index)
                }
                let first = span.next - UInt64(overlap)
                request.range = span.end.map { .bounded(first: first, last: $0) } ?? .from(first)
                request.ifRange = ifRangeValidator
            }
            // Only the very first request asks whether the copy on hand is current: after a
            // restart a 304 would leave an emptied sink behind.
            let condition = !wantsRange && !started && generation == 0 ? options.condition : nil
            switch condition {
            case .ifNoneMatch(let tag)?: request.headers.add(name: "If-None-Match", value: tag)
            case .ifModifiedSince(let seconds)?: request.headers.add(name: "If-Modified-Since", value: HTTPDate.format(seconds))
            case nil: break
            }
            do {
                let response = try await client.execute(request, engine: options.engine)
                lastStatus = response.status
                lastURL = response.url
                if firstTimings == nil { firstTimings = response.timings }
                if response.status == 304 && condition != nil {
                    response.body.discard()
                    finalURL = response.url
                    notModified = true
                    return
                }
                guard response.status == 200 || response.status == 206 else {
                    response.body.discard()
                    let asksToWait = response.status == 429 || response.status == 503
                    throw DownloadError.httpStatus(
                        response.status, reason: response.head.reason,
                        retryAfter: asksToWait ? response.head.retryAfter(now: Int64(time(nil))) : nil)
                }
                if let limit = options.maxFileSize {
                    // The resource's whole length, refused before any of its body is stored.
                    let announced =
                        response.contentRange?.completeLength
                        ?? (response.status == 200 ? response.metadata.bodyLength.map(UInt64.init) : nil)
                    if let announced, announced > limit {
                        response.body.discard()
                        throw DownloadError.tooLarge(limit: limit, announced: announced)
                    }
                }
                if wantsRange {
                    let change = self.change(in: response, resumingAt: span.next)
                    let changed = change != nil
                    if response.status == 200 || changed {
                        guard mayRestart && spans.count == 1 else {
                            response.body.discard()
                            throw changed || response.status == 200 && etag != nil
                                ? DownloadError.resourceChanged : DownloadError.rangesNotHonoured
                        }
                        if response.status == 206 {  // a 206 of another version: ask again from zero
                            response.body.discard()
                            try await restartFromZero(reason: change ?? "the file changed on the server")
                            continue
                        }
                        try await restartFromZero(reason: change ?? "the server ignored the range request")
                    }
                }
                if response.status == 206 && overlap == 0 && request.ifRange != nil && !provesStoredVersion(response)
                    && sink is DownloadReadBack && storedRun(before: span.next, of: index) > 0
                {
                    // The 206 lacks the validator the If-Range named: nothing shows the server
                    // checked it. Ask again, with the stored bytes before the resume point to compare.
                    response.body.discard()
                    serverProvesVersions = false
                    continue
                }
                if response.status == 206 && overlap > 0 {
                    let first = span.next - UInt64(overlap)
                    let fromServer = try await readExactly(overlap, of: response, at: first)
                    if !provesStoredVersion(response), try await !storedBytesEqual(fromServer, at: first) {
                        response.body.discard()
                        guard mayRestart && spans.count == 1 else { throw DownloadError.resourceChanged }
                        try await restartFromZero(
                            reason: "the \(overlap) bytes before the resume point differ from the server's (the file changed)")
                        continue
                    }
                }
                if !started { begin(with: response) }
                if let runSplit = split, response.status == 200, acceptsRanges(response) {
                    split = nil
                    runSplit()
                }
                try await stream(response, into: index, buffer: buffer)
                return
            } catch HTTPClientError.rangeNotSatisfiable(let length?) where span.end == nil && length == span.next && length > 0 {
                // Everything was already stored.
                totalLength = length
                spans[index].end = length - 1
                return
            } catch HTTPClientError.rangeNotSatisfiable(let length?)
                where span.end == nil && length < span.next && mayRestart && spans.count == 1
            {
                // More is stored than the resource has: not this resource's bytes. Start over.
                try await restartFromZero(reason: "the stored part is longer than the file on the server (\(length) bytes)")
            } catch let error where isTransient(error) && attempt < options.retries {
                attempt += 1
                retries += 1
                var delay = backoff.delay(forAttempt: attempt)
                // The server's wait, up to the cap, but never less than the back-off ("Retry-After: 0"
                // must not turn the retries into a burst).
                if case DownloadError.httpStatus(_, _, let retryAfter?) = error {
                    delay = max(delay, min(retryAfter, options.maxRetryAfter))
                }
                events(.retrying(attempt: attempt, error: "\(error)", delay: delay))
                client.metrics?.retried(ClientMetrics.retryReason(for: error))
                log.debug(
                    "download retry",
                    metadata: [
                        "http.retry.reason": "\(error)", "download.attempt": "\(attempt)", "download.resume.at": "\(spans[index].next)",
                        "download.delay.ms": "\(RequestLog.ms(delay))",
                    ])
                try await sleep(for: delay)
            }
        }
    }

    /// Reads the body into the sink up to the span's end (which a split may move meanwhile).
    private func stream(_ response: HTTPResponse, into index: Int, buffer readBuffer: SpanReadBuffer) async throws {
        let generation = self.generation
        var position = spans[index].next
        var speed = options.speedLimit.map { SpeedWindow($0, start: .now) }
        while true {
            var limit = readBuffer.capacity
            if let end = spans[index].end {
                guard position <= end else {
                    response.body.discard()  // the rest belongs to other spans
                    return
                }
                limit = Int(min(UInt64(limit), end - position + 1))
            }
            if let maxFileSize = options.maxFileSize, position <= maxFileSize {
                // At most one byte past the limit reaches the sink: enough to know it passed.
                limit = Int(min(UInt64(limit), maxFileSize - position + 1))
            }
            let n: Int
            do {
                if let lender = sink as? DownloadBufferLending,
                    let lent = try await lender.lendBuffer(for: position, maxBytes: limit)
                {
                    n = try await readBody(response, into: lent)
                    try await lender.commitLent(n, at: position)
                } else {
                    let buffer = readBuffer.bytes(atLeast: limit)
                    n = try await readBody(response, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<limit]))
                    guard generation == self.generation else { throw CancellationError() }  // not the file's bytes now
                    if n > 0 { try await sink?.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), at: position) }
                }
            } catch let error as BodyReadError {
                throw error.underlying
            } catch is CancellationError {
                response.body.discard()
                throw CancellationError()  // the tasklet was cancelled while the sink waited: not a storage failure
            } catch {
                response.body.discard()
                throw DownloadError.storage("\(error)")
            }
            // A restart while this tasklet waited: these bytes and this span are not the file's now.
            guard generation == self.generation else {
                response.body.discard()
                throw CancellationError()
            }
            if n == 0 { break }
            position += UInt64(n)
            spans[index].next = position
            bytesFetched += UInt64(n)
            events(.received(bytes: n))
            if let maxFileSize = options.maxFileSize, position > maxFileSize {
                response.body.discard()
                throw DownloadError.tooLarge(limit: maxFileSize, announced: nil)
            }
            if speed?.record(n, at: .now) == true, let limit = speed?.limit {
                response.body.discard()
                throw DownloadError.tooSlow(limit)
            }
            try await rateLimiter?.consume(n)
        }
        // The body ended: a span with a known end must have reached it. (An empty resource has
        // no last byte: nothing to check.)
        let expectedEnd = spans[index].end ?? totalLength.flatMap { $0 > 0 ? $0 - 1 : nil }
        if let expectedEnd, position <= expectedEnd {
            throw DownloadError.incomplete(expected: expectedEnd + 1, received: position)
        }
        if spans[index].end == nil {
            // Length unknown until now (read until close, or chunked): the span is done.
            totalLength = position
            spans[index].end = position == 0 ? nil : position - 1
            if position == 0 { spans[index] = ByteSpan(next: 1, end: 0) }  // an empty resource: nothing to fetch
        }
    }

    /// Reads body bytes, marking its errors so that they are told apart from the sink's.
    private func readBody(_ response: HTTPResponse, into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        do {
            return try await response.body.read(into: buffer)
        } catch {
            throw BodyReadError(underlying: error)
        }
    }

    /// Takes the resource's facts from the first response.
    private func begin(with response: HTTPResponse) {
        started = true
        finalURL = response.url
        etag = response.headers.first("ETag")
        lastModified = response.headers.first("Last-Modified")
        if let range = response.contentRange {
            totalLength = range.completeLength
        } else if response.status == 200 {
            totalLength = response.metadata.bodyLength.map(UInt64.init)
        }
        suggestedFilename = response.headers.first("Content-Disposition").flatMap(ContentDisposition.filename)
        let stored = ResumeState(totalLength: totalLength, remaining: spans).storedBytes
        events(.started(totalLength: totalLength, alreadyStored: stored, url: response.url, suggestedFilename: suggestedFilename))
    }

    private func restartFromZero(reason: String) async throws {
        log.debug("download restarts from zero", metadata: ["download.restart.reason": "\(reason)"])
        generation += 1
        do {
            try await sink?.discardAll()
        } catch {
            throw DownloadError.storage("\(error)")
        }
        spans = [ByteSpan(next: 0, end: nil)]
        etag = nil
        lastModified = nil
        totalLength = nil
        started = false
        events(.restarted(reason: reason))
    }

    /// The stored ETag when it is strong: only a strong one may make a range conditional.
    private var strongETag: String? { etag.flatMap { $0.hasPrefix("W/") ? nil : $0 } }

    /// If-Range for a resume (RFC 9110 §13.1.5): a strong ETag; a Last-Modified date only when
    /// there is no entity tag at all (a client must not send a date when it has one, nor a weak
    /// tag). With neither, the overlap comparison alone guards the resume.
    private var ifRangeValidator: IfRangeValidator? {
        if let etag = strongETag { return .etag(etag) }
        if etag == nil, let lastModified { return .lastModified(lastModified) }
        return nil
    }

    /// Whether a 206 carries the very validator the If-Range named: then it is the stored
    /// version (a server that ignored If-Range, or answered without the validator, proves nothing).
    private func provesStoredVersion(_ response: HTTPResponse) -> Bool {
        switch ifRangeValidator {
        case .etag(let tag)?: return response.headers.first("ETag") == tag
        case .lastModified(let date)?: return response.headers.first("Last-Modified") == date
        case nil: return false
        }
    }

    /// Why `response` is not of the version the stored bytes came from, or nil: an ETag or
    /// Last-Modified that differs from the stored one, or a complete length (Content-Range)
    /// that is not the stored length or is shorter than what is stored (`next`).
    private func change(in response: HTTPResponse, resumingAt next: UInt64) -> String? {
        if let complete = response.contentRange?.completeLength, complete < next {
            return "the stored part is longer than the file on the server (\(complete) bytes)"
        }
        if let etag, let now = response.headers.first("ETag"), now != etag { return "the file changed on the server (ETag)" }
        if etag == nil || response.headers.first("ETag") == nil,
            let lastModified, let now = response.headers.first("Last-Modified"), now != lastModified
        {
            return "the file changed on the server (Last-Modified)"
        }
        if let totalLength, let complete = response.contentRange?.completeLength, complete != totalLength {
            return "the file's length changed on the server (\(totalLength) bytes before, \(complete) now)"
        }
        return nil
    }

    /// How many bytes right before `offset` are stored (at most `options.resumeOverlap`): those
    /// the other spans do not still miss.
    private func storedRun(before offset: UInt64, of index: Int) -> Int {
        var run = UInt64(min(options.resumeOverlap, Int(clamping: offset)))
        for (other, span) in spans.enumerated() where other != index && !span.isComplete && span.next < offset {
            // This span still misses [span.next, end]: the stored run starts after it.
            let missingEnd = span.end.map { $0 + 1 } ?? UInt64.max
            if missingEnd >= offset { return 0 }
            run = min(run, offset - missingEnd)
        }
        return Int(run)
    }

    /// The next `count` body bytes: the server's copy of the overlap, the bytes stored at `offset`.
    /// - Throws: the body's own errors (a reset: transient), not wrapped as `readBody` does;
    ///   `DownloadError.incomplete` if it ends first.
    private func readExactly(_ count: Int, of response: HTTPResponse, at offset: UInt64) async throws -> [UInt8] {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        defer { scratch.deallocate() }
        var filled = 0
        while filled < count {
            let n = try await response.body.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[filled...]))
            if n == 0 { throw DownloadError.incomplete(expected: offset + UInt64(count), received: offset + UInt64(filled)) }
            filled += n
        }
        return Array(scratch)
    }

    /// Whether the sink holds exactly `bytes` at `offset`. - Throws: `DownloadError.storage`.
    private func storedBytesEqual(_ bytes: [UInt8], at offset: UInt64) async throws -> Bool {
        guard let readBack = sink as? DownloadReadBack else { return true }
        do {
            return try await readBack.storedBytes(at: offset, count: bytes.count) == bytes
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw DownloadError.storage("\(error)")
        }
    }

    private func acceptsRanges(_ response: HTTPResponse) -> Bool {
        // A decoded body's ranges would count encoded bytes: never split one.
        response.decodedCoding == nil && response.headers.first("Accept-Ranges")?.lowercased().contains("bytes") == true
    }

    private func isTransient(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError { return error.isTransient }
        if let error = error as? DownloadError { return error.isTransient }
        return false
    }
}

/// An error from reading the body (the network), as opposed to storing it (the sink).
private struct BodyReadError: Error {
    let underlying: any Error
}
