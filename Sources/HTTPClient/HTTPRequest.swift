import Logging

/// One HTTP request: method, URL, headers, an optional body, an optional byte range.
public struct HTTPRequest: Sendable {
    public var method: String
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

    /// - Throws: `HTTPClientError.invalidURL` / `.unsupportedScheme` for a bad URL.
    public init(_ url: String, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil) throws {
        try self.init(url: HTTPURL(url), method: method, headers: headers, body: body)
    }

    public init(url: HTTPURL, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method.uppercased()
        self.url = url
        self.headers = HTTPHeaders(headers)
        self.body = body
        credentialScope = CredentialScope(for: url)
        credential = url.credential
    }
}
