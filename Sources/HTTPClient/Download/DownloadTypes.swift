/// Where a download's bytes go. Segments write at their own offsets, so writes may arrive out
/// of order; each call is on the loop thread that runs the download. A sink may park the
/// tasklet (to hand the bytes to a disk worker, say): that is the download's backpressure.
public protocol DownloadSink: AnyObject {
    /// Stores `bytes` at `offset` (the bytes are valid only during the call).
    /// - Throws: the storage's error (a full disk); the download stops with
    ///   `DownloadError.storage`, which is not retried.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) async throws
    /// Drops everything written so far: the resource changed, or the server ignored the range.
    func discardAll() async throws
}

/// A sink that can lend its own memory for the next bytes, so the download reads from the
/// socket straight into it (no copy from a read buffer into the sink's).
public protocol DownloadBufferLending: DownloadSink {
    /// A buffer for the bytes at `offset` (at most `maxBytes`), or nil to use `write` instead.
    func lendBuffer(for offset: UInt64, maxBytes: Int) async throws -> UnsafeMutableRawBufferPointer?
    /// The first `count` bytes of the lent buffer now hold the bytes at `offset`; the loan ends.
    func commitLent(_ count: Int, at offset: UInt64) async throws
}

/// A sink that can read back what it stored: a resume without validators compares the bytes
/// before the resume point with the server's (`DownloadOptions.resumeOverlap`).
public protocol DownloadReadBack: DownloadSink {
    /// The `count` bytes stored at `offset` (all of them were written before).
    /// - Throws: the storage's error.
    func storedBytes(at offset: UInt64, count: Int) async throws -> [UInt8]
}

/// What a download needs to continue where an earlier one stopped.
public struct ResumeState: Sendable, Equatable {
    /// The validators of the resource the bytes came from; a resume with a different one
    /// starts over. The ETag, as the server sent it (quotes and any `W/` included).
    public var etag: String?
    /// The `Last-Modified` value, as the server sent it; a resume's `If-Range` uses it only
    /// when there is no ETag at all.
    public var lastModified: String?
    /// The resource's full length, when known.
    public var totalLength: UInt64?
    /// Byte ranges still to fetch: `[next, end]` (end inclusive, nil: to the end of the resource).
    public var remaining: [ByteSpan]

    /// A state given by its parts (say, read back from a resume file); a fresh download is
    /// `remaining: [ByteSpan(next: 0, end: nil)]`.
    public init(etag: String? = nil, lastModified: String? = nil, totalLength: UInt64? = nil, remaining: [ByteSpan]) {
        self.etag = etag
        self.lastModified = lastModified
        self.totalLength = totalLength
        self.remaining = remaining
    }

    /// Bytes already stored: everything outside the remaining spans.
    public var storedBytes: UInt64 {
        guard let totalLength else { return remaining.first?.next ?? 0 }  // unknown length: one open span
        let missing = remaining.reduce(UInt64(0)) { sum, span in
            let end = min(span.end.map { $0 + 1 } ?? totalLength, totalLength)
            return sum + (end > span.next ? end - span.next : 0)
        }
        return totalLength - min(missing, totalLength)
    }
}

/// A part of a resource still to download.
public struct ByteSpan: Sendable, Equatable {
    /// The next byte to fetch.
    public var next: UInt64
    /// The last byte (inclusive); nil: to the end of the resource.
    public var end: UInt64?

    /// The bytes from `next` through `end` (inclusive; nil: to the end).
    public init(next: UInt64, end: UInt64?) {
        self.next = next
        self.end = end
    }

    /// True once every byte of a bounded span has arrived.
    public var isComplete: Bool { end.map { next > $0 } ?? false }
}

/// Options of `Downloader`.
public struct DownloadOptions: Sendable {
    /// Retries after a transient failure (reset, timeout, truncated body, 5xx, 408, 429).
    public var retries: Int
    /// The first retry waits about this long; each next one twice as long (with jitter), at most `maxRetryDelay`.
    public var retryBaseDelay: Duration
    /// The longest wait between two attempts (a `Retry-After` is capped by `maxRetryAfter` instead).
    public var maxRetryDelay: Duration
    /// Parallel range requests for one resource (like aria2's -x); 1 downloads in one stream.
    public var connections: Int
    /// The smallest segment worth its own connection.
    public var minimumSegment: UInt64
    /// Bytes per second for this download, nil: unlimited.
    public var rateLimit: Int?
    /// Extra header fields for every request of the download (each segment, retry and resume);
    /// those that carry credentials go only to the origin of the URL `run` was given.
    public var headers: [(String, String)]
    /// Header names, besides `Authorization`, `Cookie` and `Proxy-Authorization`, that carry
    /// credentials: sent only to the origin of the URL `run` was given (`CredentialScope`).
    public var credentialHeaderNames: [String]
    /// Send the credential headers to every origin a redirect leads to (curl's
    /// `--location-trusted`): segments, retries and resumes of the final URL too. Off by default.
    public var locationTrusted: Bool
    /// The longest a retry waits for a 429's or 503's `Retry-After`; a longer one is cut to this.
    public var maxRetryAfter: Duration
    /// Basic credentials for the origin of the URL `run` was given (curl's `-u`); nil: that
    /// URL's userinfo, else the client's `.netrc`, if any.
    public var credential: HTTPCredential?
    /// The engine each request of the download runs on (`Client.execute(_:engine:)`).
    public var engine: HTTPEngine
    /// Bytes per read from the connection.
    public var readSize: Int
    /// Bytes before a resume point asked for again and compared with the stored ones when the
    /// resource has no strong ETag or Last-Modified (a sink that can read back: `DownloadReadBack`).
    public var resumeOverlap: Int
    /// The slowest a connection may be (curl's `--speed-limit`/`--speed-time`): a response
    /// whose body arrives slower than this, on average over the window, fails with
    /// `DownloadError.tooSlow`, which is transient (retried with a Range from the last stored
    /// byte, within `retries`). Nil: no floor. A read that waits longer than the client's
    /// `idleTimeout` fails as idle before this can judge it: give the client an idle timeout
    /// of at most `window` for a total stall to count within the window too (netget does).
    public var speedLimit: SpeedLimit?
    /// The longest the whole download may take, every attempt, back-off and restart included
    /// (curl's `--max-time`): then it stops with `DownloadError.maxTimeExceeded`, the sink
    /// keeping what was stored (`resumeState` says what is missing). Nil: no limit.
    public var maxTime: Duration?
    /// The largest resource to accept (curl's `--max-filesize`): a response whose length
    /// (Content-Length, or Content-Range's complete length) is larger is refused before any of
    /// its body reaches the sink; one of unknown length is stopped when it passes the limit.
    /// Both fail with `DownloadError.tooLarge` (not retried). Nil: no limit.
    public var maxFileSize: UInt64?
    /// Makes the first request conditional (wget's `-N`): a 304 to it ends the download with
    /// `DownloadResult.notModified` and nothing sent to the sink. Later requests (ranges,
    /// restarts) never carry it. Nil: unconditional, and a 304 is an error.
    public var condition: DownloadCondition?

    /// Every option, with the defaults: 5 retries from 500 ms up to 30 s apart, one connection,
    /// 1 MiB segments at least, no rate or speed limit, 1 MiB reads, a 64 KiB resume overlap,
    /// the loop engine. Values below their least are raised (`retries` and `resumeOverlap` to 0,
    /// `connections` and `minimumSegment` to 1, `readSize` to 4 KiB).
    public init(
        retries: Int = 5, retryBaseDelay: Duration = .milliseconds(500), maxRetryDelay: Duration = .seconds(30),
        connections: Int = 1, minimumSegment: UInt64 = 1 << 20, rateLimit: Int? = nil,
        headers: [(String, String)] = [], credentialHeaderNames: [String] = [], locationTrusted: Bool = false,
        credential: HTTPCredential? = nil, maxRetryAfter: Duration = .seconds(120), engine: HTTPEngine = .loop, readSize: Int = 1 << 20,
        resumeOverlap: Int = 64 << 10, speedLimit: SpeedLimit? = nil, maxTime: Duration? = nil, maxFileSize: UInt64? = nil,
        condition: DownloadCondition? = nil
    ) {
        self.retries = max(0, retries)
        self.retryBaseDelay = retryBaseDelay
        self.maxRetryDelay = maxRetryDelay
        self.connections = max(1, connections)
        self.minimumSegment = max(1, minimumSegment)
        self.rateLimit = rateLimit
        self.headers = headers
        self.credentialHeaderNames = credentialHeaderNames
        self.locationTrusted = locationTrusted
        self.credential = credential
        self.maxRetryAfter = maxRetryAfter
        self.engine = engine
        self.readSize = max(4096, readSize)
        self.resumeOverlap = max(0, resumeOverlap)
        self.speedLimit = speedLimit
        self.maxTime = maxTime
        self.maxFileSize = maxFileSize
        self.condition = condition
    }
}

/// A floor on a connection's speed: at least `bytesPerSecond` on average over every `window`
/// (curl's `-Y BYTES -y SECONDS`). Measured per response (with `connections` > 1, each
/// segment's connection on its own), from its head on, over a sliding window kept in ten
/// slices (`SpeedWindow`).
public struct SpeedLimit: Sendable, Equatable {
    /// The least average rate, in bytes per second; at least 1.
    public var bytesPerSecond: Int
    /// How long the rate is averaged over; at least 10 ms.
    public var window: Duration

    /// - Parameters: `bytesPerSecond` at least 1, `window` more than zero (smaller values are raised).
    public init(bytesPerSecond: Int, window: Duration) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        self.window = max(window, .milliseconds(10))
    }
}

/// What makes a download's first request conditional (RFC 9110 §13.1).
public enum DownloadCondition: Sendable, Equatable {
    /// `If-None-Match` with this entity tag, as the server sent it (quotes and `W/` included):
    /// the copy on hand came with it. Preferred: a tag says more than a date.
    case ifNoneMatch(String)
    /// `If-Modified-Since` with this time (seconds since 1970, UTC): the copy on hand is of then.
    case ifModifiedSince(Int64)
}

/// What happens during a download, for a progress display. Delivered on the loop thread.
public enum DownloadEvent: Sendable {
    /// The first response head: the length (if known) and the bytes already stored by a resume.
    case started(totalLength: UInt64?, alreadyStored: UInt64, url: HTTPURL, suggestedFilename: String?)
    /// `bytes` more arrived.
    case received(bytes: Int)
    /// A transient failure; the next attempt starts after `delay`.
    case retrying(attempt: Int, error: String, delay: Duration)
    /// Everything stored so far was dropped (`reason` says why) and the download starts over.
    case restarted(reason: String)
}

/// A finished download.
public struct DownloadResult: Sendable {
    /// The URL that answered last (after redirects).
    public var finalURL: HTTPURL
    /// The resource's length (bytes stored).
    public var totalBytes: UInt64
    /// Bytes fetched by this run (less than `totalBytes` after a resume).
    public var bytesFetched: UInt64
    /// Retries this run made after transient failures, and restarts after the resource changed.
    public var retries: Int
    /// Where this run started, for a resumed download.
    public var resumedFrom: UInt64
    /// The resource's ETag as the server sent it, nil without one: what a later conditional
    /// request (`DownloadCondition.ifNoneMatch`) or resume checks against.
    public var etag: String?
    /// The resource's `Last-Modified` as the server sent it, nil without one.
    public var lastModified: String?
    /// The file name from Content-Disposition, if the server sent one.
    public var suggestedFilename: String?
    /// The server answered the conditional first request (`DownloadOptions.condition`) with
    /// 304 Not Modified: the copy on hand is current, and nothing reached the sink.
    public var notModified = false
}

/// Why a download failed, beyond `HTTPClientError`.
public enum DownloadError: Error, Equatable, CustomStringConvertible {
    /// A status that is not success; 5xx, 408 and 429 are retried first. `retryAfter` is the
    /// wait a 429 or 503 asked for with `Retry-After` (the retry waits that long, at most
    /// `DownloadOptions.maxRetryAfter`).
    case httpStatus(Int, reason: String, retryAfter: Duration? = nil)
    /// The sink could not store the bytes (disk full, permissions).
    case storage(String)
    /// A segment's range request was answered with the whole resource.
    case rangesNotHonoured
    /// The resource changed while its segments were being fetched, more often than the retries allow.
    case resourceChanged
    /// The body ended before the announced length.
    case incomplete(expected: UInt64, received: UInt64)
    /// A response arrived slower than `DownloadOptions.speedLimit` over its window (transient:
    /// retried with a range, within the retries).
    case tooSlow(SpeedLimit)
    /// The whole download took longer than `DownloadOptions.maxTime` (not retried; what was
    /// stored stays in the sink).
    case maxTimeExceeded(Duration)
    /// The resource is larger than `DownloadOptions.maxFileSize`: `announced` is the length the
    /// server gave (refused before any body byte), nil when the body passed the limit as it came.
    case tooLarge(limit: UInt64, announced: UInt64?)

    /// One line for a person: what went wrong, and for ranges not honoured what to try.
    public var description: String {
        switch self {
        case .httpStatus(let status, let reason, let retryAfter):
            let text = "the server answered \(status) \(reason)".trimmingTrailingSpace
            return retryAfter.map { text + " (Retry-After: \($0.components.seconds) s)" } ?? text
        case .storage(let detail): return "cannot store the data: \(detail)"
        case .rangesNotHonoured: return "the server does not honour range requests for this file (try one connection)"
        case .resourceChanged: return "the file changed on the server during the download"
        case .incomplete(let expected, let received): return "the body ended after \(received) of \(expected) bytes"
        case .tooSlow(let limit):
            return "slower than \(limit.bytesPerSecond) B/s for \(secondsText(limit.window)) s"
        case .maxTimeExceeded(let limit): return "the download took longer than its time limit, \(secondsText(limit)) s"
        case .tooLarge(let limit, let announced?): return "the file is \(announced) bytes, more than the limit of \(limit) bytes"
        case .tooLarge(let limit, nil): return "the file passed the limit of \(limit) bytes"
        }
    }

    /// Whether a retry may help.
    public var isTransient: Bool {
        switch self {
        case .httpStatus(let status, _, _): return status >= 500 || status == 408 || status == 429
        case .incomplete, .tooSlow: return true
        case .storage, .rangesNotHonoured, .resourceChanged, .maxTimeExceeded, .tooLarge: return false
        }
    }
}

extension String {
    var trimmingTrailingSpace: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// "5", "1.5", "0.25": seconds as a person writes them (at most three decimals).
func secondsText(_ duration: Duration) -> String {
    let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    let whole = millis / 1000
    var fraction = String(millis % 1000)
    guard fraction != "0" else { return String(whole) }
    fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
    while fraction.last == "0" { fraction.removeLast() }
    return "\(whole).\(fraction)"
}
