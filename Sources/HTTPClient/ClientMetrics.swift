import CoreMetrics
import NetTLS

/// What both engines report to swift-metrics (issue 16 point 3), made once per `Client` from
/// `HTTPClientConfiguration.metrics`. The names and dimensions are in the README's metrics
/// table. Any thread: the handlers are the factory's, which must be thread-safe.
final class ClientMetrics: Sendable {
    /// Index 0: requests that failed before a final head; 1...5: by status class.
    private let requests: [Counter]
    private let retries: [String: Counter]
    let bytesIn: Counter
    let bytesOut: Counter
    private let tlsFailures: Counter
    private let connect: Timer
    private let tlsHandshake: Timer
    private let firstByte: Timer
    let request: Timer

    /// The retry reasons, each a `reason` dimension of `http_client_retries_total`.
    static let retryReasons = ["stale_connection", "timeout", "connection", "http_status", "other"]

    init(factory: any MetricsFactory) {
        requests = ["failed", "1xx", "2xx", "3xx", "4xx", "5xx"].map {
            Counter(label: "http_client_requests_total", dimensions: [("status_class", $0)], factory: factory)
        }
        var retries: [String: Counter] = [:]
        for reason in Self.retryReasons {
            retries[reason] = Counter(label: "http_client_retries_total", dimensions: [("reason", reason)], factory: factory)
        }
        self.retries = retries
        bytesIn = Counter(label: "http_client_bytes_received_total", factory: factory)
        bytesOut = Counter(label: "http_client_bytes_sent_total", factory: factory)
        tlsFailures = Counter(label: "http_client_tls_failures_total", factory: factory)
        connect = Timer(label: "http_client_connect_duration", factory: factory)
        tlsHandshake = Timer(label: "http_client_tls_handshake_duration", factory: factory)
        firstByte = Timer(label: "http_client_time_to_first_byte", factory: factory)
        request = Timer(label: "http_client_request_duration", factory: factory)
    }

    /// A final head arrived (redirects are not counted: only the response given to the caller).
    func responded(status: Int, timings: RequestTimings) {
        requests[min(5, max(1, status / 100))].increment()
        firstByte.record(duration: timings.firstByte)
    }

    /// The request failed before a final head.
    func failed() { requests[0].increment() }

    /// A retry, by reason (one of `retryReasons`).
    func retried(_ reason: String) { (retries[reason] ?? retries["other"])?.increment() }

    /// A new connection's set-up.
    func connected(_ setup: RequestTimings) {
        connect.record(duration: setup.nameLookup + setup.connect)
        if let tls = setup.tlsHandshake { tlsHandshake.record(duration: tls) }
    }

    /// A connection that could not be made: counted as a TLS failure when TLS refused it.
    func connectFailed(_ error: any Error) {
        if case HTTPClientError.tls = error { tlsFailures.increment() }
        if error is TLSError { tlsFailures.increment() }
    }

    /// The `reason` dimension for a Downloader retry after `error`.
    static func retryReason(for error: any Error) -> String {
        switch error {
        case HTTPClientError.timedOut: return "timeout"
        case HTTPClientError.network, HTTPClientError.resolve, HTTPClientError.tls, DownloadError.incomplete: return "connection"
        case DownloadError.httpStatus: return "http_status"
        default: return "other"
        }
    }
}

extension CoreMetrics.Timer {
    /// Records a `Duration` in nanoseconds.
    func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
