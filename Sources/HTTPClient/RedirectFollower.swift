/// Decides, for both engines, whether a response is a redirect to follow and what the next
/// request is (RFC 9110 §15.4): the method and body rules, the limit, loop detection. Which
/// headers reach the new origin is the request's `CredentialScope`'s to say, when the head is
/// written: the original origin keeps the credentials on every later hop too.
struct RedirectFollower {
    let limit: Int
    /// Whether an https URL may redirect to an http one (`HTTPClientConfiguration.allowInsecureRedirects`).
    let allowsInsecureRedirects: Bool
    private let firstURL: HTTPURL
    /// Every URL redirected to, in order.
    private(set) var chain: [HTTPURL] = []

    init(firstURL: HTTPURL, limit: Int, allowsInsecureRedirects: Bool = false) {
        self.limit = limit
        self.allowsInsecureRedirects = allowsInsecureRedirects
        self.firstURL = firstURL.withoutCredential
    }

    /// - Returns: the request to send next, or nil when `head` is not a redirect to follow.
    /// - Throws: `HTTPClientError.tooManyRedirects`, `.redirectLoop`, `.redirectWithoutLocation`,
    ///   `.invalidURL` / `.unsupportedScheme` for a bad Location, `.insecureRedirect` for an
    ///   https to http hop unless allowed.
    mutating func nextRequest(after head: HTTPResponseHead, for request: HTTPRequest) throws -> HTTPRequest? {
        guard [301, 302, 303, 307, 308].contains(head.status), limit > 0 else { return nil }
        // 307 and 308 send the same body again: a streamed sequence cannot be; its 3xx is the answer.
        if let streaming = request.streamingBody, !streaming.isReplayable, head.status == 307 || head.status == 308 {
            return nil
        }
        guard let location = head.headers.first("Location"), !location.isEmpty else {
            throw HTTPClientError.redirectWithoutLocation(status: head.status)
        }
        // The hop keeps the request's credential and scope; userinfo in a Location is ignored.
        let target = try request.url.resolving(location).withoutCredential
        // Leaving TLS would expose the request (and what the user thought was private) on the wire.
        if request.url.usesTLS && !target.usesTLS && !allowsInsecureRedirects {
            throw HTTPClientError.insecureRedirect(from: request.url, to: target)
        }
        guard chain.count < limit else { throw HTTPClientError.tooManyRedirects(limit: limit) }
        // A short linear scan: redirects are few, and most requests never get here.
        guard target != firstURL && !chain.contains(target) else {
            throw HTTPClientError.redirectLoop(target.description)
        }
        chain.append(target)
        var next = request
        next.url = target
        // 303 always becomes GET; 301/302 turn a POST into a GET, as every browser and curl do.
        let becomesGet =
            (head.status == 303 && request.method != "HEAD")
            || ((head.status == 301 || head.status == 302) && request.method == "POST")
        if becomesGet {
            next.method = "GET"
            next.body = nil
            next.streamingBody = nil
            next.expectsContinue = false
            next.headers = HTTPHeaders(request.headers.filter { $0.name.lowercased() != "content-type" }.map { ($0.name, $0.value) })
        }
        return next
    }
}
