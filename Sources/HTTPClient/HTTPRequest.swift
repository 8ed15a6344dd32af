import Logging

/// One HTTP request: method, URL, headers, an optional body, an optional byte range.
public struct HTTPRequest: Sendable {
    /// The method, upper-cased by the initializers ("GET", "HEAD", "POST"); a HEAD's
    /// response is read without a body.
    public var method: String
    /// Where the request goes; a redirect's next request has its target here.
    public var url: HTTPURL
    /// Extra header fields; a `Host`, `User-Agent` or `Accept` here replaces the default one.
    public var headers: HTTPHeaders
    /// Sent with a `Content-Length` (POST, PUT). Nil sends no body.
    public var body: [UInt8]?
    /// Asks for part of the resource; the response's `Content-Range` is checked against it.
    public var range: ByteRange?
    /// Makes `range` conditional: a changed resource comes back whole (200).
    public var ifRange: IfRangeValidator?
    /// Which origin may see the credential headers (by default the origin of the URL the
    /// request was made with): after a redirect, or for a request that `Downloader` sends to
    /// the final URL, they are left out unless the scope allows them.
    public var credentialScope: CredentialScope
    /// Sent as `Authorization: Basic ...` (unless `headers` has an Authorization field) where
    /// `credentialScope` allows Authorization: by default the URL's userinfo. A redirect hop
    /// keeps it (and its scope), never the Location's userinfo.
    public var credential: HTTPCredential?
    /// This request's logger, in place of `HTTPClientConfiguration.logger` (say, one carrying
    /// a caller's trace metadata); nil: the configuration's.
    public var logger: Logger?
    /// A body sent as it is produced (an `AsyncSequence` of chunks, or a file), in place of
    /// `body`; setting both is an invalid request. See `HTTPRequestBody` for the retry and
    /// redirect rules.
    public var streamingBody: HTTPRequestBody?
    /// Sends `Expect: 100-continue` with a body and holds the body back until the server
    /// answers 100 Continue, or `HTTPClientConfiguration.expectContinueTimeout` passes (as
    /// curl). A final answer before that (a 401, a 413) is the response, and the body is
    /// never sent (the connection is then closed, not reused).
    public var expectsContinue = false

    /// - Throws: `HTTPClientError.invalidURL` / `.unsupportedScheme` for a bad URL.
    public init(_ url: String, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil) throws {
        try self.init(url: HTTPURL(url), method: method, headers: headers, body: body)
    }

    /// A request for `url`, with its userinfo (if any) as `credential`, scoped to its origin.
    /// Header fields are checked when the request is written, not here.
    public init(url: HTTPURL, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method.uppercased()
        self.url = url
        self.headers = HTTPHeaders(headers)
        self.body = body
        credentialScope = CredentialScope(for: url)
        credential = url.credential
    }
}
