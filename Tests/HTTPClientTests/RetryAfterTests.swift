import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// HTTP-date and Retry-After (issue 14 point 5).
@Suite("Retry-After and HTTP-date")
struct RetryAfterTests {
    /// RFC 9110 §5.6.7's example, 1994-11-06T08:49:37Z.
    static let example: Int64 = 784_111_777

    @Test("the three HTTP-date forms of RFC 9110 name the same time; IMF-fixdate is what we write")
    func threeForms() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == Self.example)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == Self.example)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == Self.example)
        #expect(HTTPDate.format(Self.example) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 23:59:59 GMT") == 951_868_799)
    }

    @Test(
        "text that names no real time is nil",
        arguments: [
            "Sun, 30 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT", "", "120",
            "Mon, 29 Feb 1900 00:00:00 GMT", "Sun, 06 Nov 1994 08:49 GMT", "Sun, +6 Nov 1994 08:49:37 GMT",
        ])
    func invalidDates(text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test("format and parse round-trip over 1970-2100")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let seconds = Int64.random(in: 0..<4_102_444_800, using: &generator)
            #expect(HTTPDate.parse(HTTPDate.format(seconds)) == seconds, "\(seconds)")
        }
    }

    func head(_ fields: [(String, String)]) -> HTTPResponseHead {
        HTTPResponseHead(version: "HTTP/1.1", status: 503, reason: "Service Unavailable", headers: HTTPHeaders(fields), keepAlive: true)
    }

    @Test("Retry-After in seconds, or as a date from the response's Date (else now); a past date is no wait")
    func retryAfterValues() {
        #expect(head([("Retry-After", "120")]).retryAfter(now: 0) == .seconds(120))
        #expect(head([("Retry-After", "99999999999999999999")]).retryAfter(now: 0) == .seconds(9_999_999_999))
        let date = HTTPDate.format(Self.example)
        let later = HTTPDate.format(Self.example + 30)
        #expect(head([("Date", date), ("Retry-After", later)]).retryAfter(now: 0) == .seconds(30))
        #expect(head([("Retry-After", later)]).retryAfter(now: Self.example + 10) == .seconds(20))
        #expect(head([("Retry-After", date)]).retryAfter(now: Self.example + 10) == .seconds(0))
        #expect(head([("Retry-After", "soon")]).retryAfter(now: 0) == nil)
        #expect(head([("Retry-After", "-5")]).retryAfter(now: 0) == nil)
        #expect(head([]).retryAfter(now: 0) == nil)
    }

    /// The delays of the retries a download made, and its bytes.
    func download(_ url: String, options: DownloadOptions) throws -> (delays: [Duration], errors: [String], count: Int) {
        try onLoop {
            var delays: [Duration] = []
            var errors: [String] = []
            let sink = MemorySink(size: 5000)
            let result = try await Downloader(client: Client(), options: options).run(url: try HTTPURL(url), sink: sink) { event in
                if case .retrying(_, let error, let delay) = event {
                    delays.append(delay)
                    errors.append(error)
                }
            }
            return (delays, errors, Int(result.totalBytes))
        }
    }

    @Test("a 429 with Retry-After: the retry waits what the server asked, and the report says so")
    func downloaderHonoursRetryAfter() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/5000?fault=status&code=429&retryAfter=1&once=ra-1"
        let (delays, errors, count) = try download(url, options: DownloadOptions(retryBaseDelay: .milliseconds(1)))
        #expect(count == 5000)
        #expect(delays == [.seconds(1)], "not the 1 ms back-off: the server's 1 s")
        #expect(errors.first?.contains("429") == true && errors.first?.contains("Retry-After: 1 s") == true, "\(errors)")
    }

    @Test("a Retry-After beyond maxRetryAfter is cut to it")
    func retryAfterIsCapped() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/5000?fault=status&code=503&retryAfter=3600&once=ra-2"
        let (delays, _, count) = try download(
            url, options: DownloadOptions(retryBaseDelay: .milliseconds(1), maxRetryAfter: .milliseconds(50)))
        #expect(count == 5000)
        #expect(delays == [.milliseconds(50)])
    }
}
