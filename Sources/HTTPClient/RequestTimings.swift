import NetCore

/// How long each phase of one response's exchange took, on both engines, measured with
/// `MonotonicClock` (`CLOCK_MONOTONIC`): per-phase durations, not curl's cumulative times
/// (curl's `time_connect` is `nameLookup + connect` here, `time_appconnect` adds `tlsHandshake`).
///
/// The phases are those of the connection the final response (after redirects) came on, and
/// that response's first byte:
/// - `nameLookup`: resolving the first hop's host name, until the first connect attempt could
///   start (Happy Eyeballs: the first usable answer, RFC 8305's 50 ms resolution delay
///   included); zero for an IP literal; through a `socks5://` proxy, the lookup of the origin too.
/// - `connect`: the TCP connect to the first hop (the origin, or the proxy), the winning
///   attempt's race included, plus a proxy tunnel's handshake (CONNECT, SOCKS).
/// - `tlsHandshake`: every TLS handshake of the connection (to an https proxy, then to the
///   origin); nil when the connection has no TLS at all (plain http): not applicable.
/// - `firstByte`: from the request being about to be written on the ready connection to the
///   first byte of the response (the server's time plus a round trip); the pool's wait and
///   the connection set-up are not in it.
///
/// A request on a reused (pooled, keep-alive) connection reports `nameLookup`, `connect` and
/// `tlsHandshake` as zero, as curl does (`tlsHandshake` stays nil for plain http), and
/// `reusedConnection` true. Meant for summaries and, later, metrics timers (connect, TLS
/// handshake, time to first byte) that read these same values.
///
/// Cost: a few clock reads per connection (about one per phase) and two per request.
public struct RequestTimings: Sendable, Equatable {
    /// Resolving the first hop's host name (see above); zero for an IP literal or a reused connection.
    public var nameLookup: Duration
    /// The TCP connect to the first hop and any proxy tunnel's handshake; zero when reused.
    public var connect: Duration
    /// Every TLS handshake of the connection; nil for plain http, zero when reused.
    public var tlsHandshake: Duration?
    /// From writing the request on the ready connection to the response's first byte.
    public var firstByte: Duration
    /// The connection came from the pool: the set-up phases are zero.
    public var reusedConnection: Bool

    /// Timings given by hand (tests, a caller's own summaries); the engines fill them in themselves.
    public init(
        nameLookup: Duration = .zero, connect: Duration = .zero, tlsHandshake: Duration? = nil, firstByte: Duration = .zero,
        reusedConnection: Bool = false
    ) {
        self.nameLookup = nameLookup
        self.connect = connect
        self.tlsHandshake = tlsHandshake
        self.firstByte = firstByte
        self.reusedConnection = reusedConnection
    }

    /// These set-up timings as a reused connection reports them: zero (nil TLS stays nil).
    var reused: RequestTimings {
        RequestTimings(tlsHandshake: tlsHandshake.map { _ in .zero }, reusedConnection: true)
    }
}

/// Laps of one connection's set-up: each `lap()` is one clock read and returns the time since
/// the previous one (or since `init`).
struct PhaseStopwatch {
    private var last: Int64

    init() { last = MonotonicClock.nanoseconds() }

    /// The time since the last lap, from a stamp read elsewhere (`now`), which becomes the last.
    mutating func lap(at now: Int64 = MonotonicClock.nanoseconds()) -> Duration {
        defer { last = now }
        return .nanoseconds(max(0, now - last))
    }
}
