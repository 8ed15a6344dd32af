import Testing

@testable import HTTPClient

/// The plan both engines follow around an exchange, with no I/O: redirects, one stale retry
/// per hop, range validation, and the metadata both engines' responses carry.
@Suite struct RequestPlanTests {
    static func head(_ status: Int, _ fields: [(String, String)] = []) -> HTTPResponseHead {
        HTTPResponseHead(version: "HTTP/1.1", status: status, reason: "", headers: HTTPHeaders(fields), keepAlive: true)
    }

    @Test func aRedirectIsFollowedAndTheFinalResponseNamesTheChain() throws {
        var plan = RequestPlan(try HTTPRequest("http://a.test/one"), configuration: HTTPClientConfiguration())
        guard case .follow = try plan.decide(after: Self.head(302, [("Location", "/two")])) else {
            Issue.record("a 302 with a Location is followed")
            return
        }
        #expect(plan.request.url.description == "http://a.test/two")
        #expect(String(decoding: try plan.requestHead(), as: UTF8.self).hasPrefix("GET /two HTTP/1.1\r\n"))
        guard case .respond(let metadata) = try plan.decide(after: Self.head(200)) else {
            Issue.record("a 200 is the response")
            return
        }
        #expect(metadata.url.description == "http://a.test/two")
        #expect(metadata.redirects.map(\.description) == ["http://a.test/two"])
        #expect(metadata.status == 200 && !metadata.rangeIgnored)
    }

    @Test func aStaleConnectionIsRetriedOncePerHop() throws {
        var plan = RequestPlan(try HTTPRequest("http://a.test/one"), configuration: HTTPClientConfiguration())
        let notRetryable = plan.retries(after: false)
        let first = plan.retries(after: true)
        let second = plan.retries(after: true)
        _ = try plan.decide(after: Self.head(301, [("Location", "/two")]))
        let afterRedirect = plan.retries(after: true)
        #expect(!notRetryable, "only what the machine calls retryable")
        #expect(first)
        #expect(!second, "a server that closes every connection fails the request")
        #expect(afterRedirect, "a new hop, a new connection: one retry again")
    }

    @Test func rangeAnswersAreValidated() throws {
        var unasked = RequestPlan(try HTTPRequest("http://a.test/f"), configuration: HTTPClientConfiguration())
        guard
            case .reject(HTTPClientError.invalidContentRange) = try unasked.decide(
                after: Self.head(206, [("Content-Range", "bytes 0-4/10"), ("Content-Length", "5")]))
        else {
            Issue.record("a 206 nobody asked for would be written at offset 0 as the whole file")
            return
        }
        var request = try HTTPRequest("http://a.test/f")
        request.range = .from(5)
        var asked = RequestPlan(request, configuration: HTTPClientConfiguration())
        guard
            case .respond(let partial) = try asked.decide(
                after: Self.head(206, [("Content-Range", "bytes 5-9/10"), ("Content-Length", "5")]))
        else {
            Issue.record("the range asked for")
            return
        }
        #expect(partial.contentRange?.first == 5 && partial.rangeRequested)
        var ignored = RequestPlan(request, configuration: HTTPClientConfiguration())
        guard case .respond(let whole) = try ignored.decide(after: Self.head(200, [("Content-Length", "10")])) else {
            Issue.record("a 200 to a range request is a response")
            return
        }
        #expect(whole.rangeIgnored, "the resumer must start from zero")
        #expect(whole.head.contentLength == 10)
    }

    @Test func redirectErrorsAreThrown() throws {
        var plan = RequestPlan(try HTTPRequest("https://a.test/"), configuration: HTTPClientConfiguration())
        do {
            _ = try plan.decide(after: Self.head(302, [("Location", "http://a.test/")]))
            Issue.record("an https to http redirect is refused by default")
        } catch HTTPClientError.insecureRedirect {
        }
    }
}
