/// Serializes a request head (RFC 9112 §3): the request line, Host first, then the fields.
/// Refuses any name or value that would change the message's framing.
enum RequestWriter {
    /// - Throws: `HTTPClientError.invalidRequest` for a bad method, header name or value.
    /// - Parameters:
    ///   - acceptEncoding: the `Accept-Encoding` to send unless the request has one.
    ///   - forwardingProxy: the HTTP proxy a plain-http request goes through: the target is then
    ///     the absolute URL, and the proxy's credential goes in `Proxy-Authorization`.
    static func head(
        for request: HTTPRequest, userAgent: String, acceptEncoding: String? = nil, forwardingProxy: HTTPProxy? = nil
    ) throws -> [UInt8] {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(isTokenByte) else {
            throw HTTPClientError.invalidRequest("method \(request.method.debugDescription) is not a token")
        }
        var host = request.url.authority
        var givenUserAgent = false
        var givenAccept = false
        var givenAuthorization = false
        var givenAcceptEncoding = false
        for field in request.headers {
            if HTTPHeaders.namesMatch(field.name, "Host") { host = field.value }
            if HTTPHeaders.namesMatch(field.name, "User-Agent") { givenUserAgent = true }
            if HTTPHeaders.namesMatch(field.name, "Accept") { givenAccept = true }
            if HTTPHeaders.namesMatch(field.name, "Authorization") { givenAuthorization = true }
            if HTTPHeaders.namesMatch(field.name, "Accept-Encoding") { givenAcceptEncoding = true }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        bytes += request.method.utf8
        bytes.append(0x20)
        // The absolute form never carries the userinfo (`description` leaves it out).
        bytes += (forwardingProxy == nil ? request.url.target : request.url.description).utf8
        bytes += " HTTP/1.1\r\n".utf8
        try append("Host", host, to: &bytes)
        if !givenUserAgent { try append("User-Agent", userAgent, to: &bytes) }
        if !givenAccept { bytes += "Accept: */*\r\n".utf8 }
        if let credential = forwardingProxy?.credential {
            try append("Proxy-Authorization", credential.basicAuthorization, to: &bytes)
        }
        if let acceptEncoding, !givenAcceptEncoding { try append("Accept-Encoding", acceptEncoding, to: &bytes) }
        if let range = request.range { try append("Range", range.headerValue, to: &bytes) }
        if let ifRange = request.ifRange { try append("If-Range", ifRange.headerValue, to: &bytes) }
        if request.body != nil && request.streamingBody != nil {
            throw HTTPClientError.invalidRequest("a request has either a body or a streaming body, not both")
        }
        if let body = request.body { try append("Content-Length", String(body.count), to: &bytes) }
        if let streaming = request.streamingBody {
            if let length = streaming.length {
                guard length >= 0 else { throw HTTPClientError.invalidRequest("a body length of \(length)") }
                try append("Content-Length", String(length), to: &bytes)
            } else {
                bytes += "Transfer-Encoding: chunked\r\n".utf8
            }
        }
        if request.expectsContinue && (request.body != nil || request.streamingBody != nil) {
            bytes += "Expect: 100-continue\r\n".utf8
        }
        if let credential = request.credential, !givenAuthorization,
            request.credentialScope.allows("Authorization", to: request.url)
        {
            try append("Authorization", credential.basicAuthorization, to: &bytes)
        }
        let filtersCredentials = !request.credentialScope.allowsEverything(to: request.url)
        for field in request.headers {
            // Host is set above; framing (and Expect, which the exchange must honour) is ours to set.
            if HTTPHeaders.namesMatch(field.name, "Host") || HTTPHeaders.namesMatch(field.name, "Content-Length")
                || HTTPHeaders.namesMatch(field.name, "Transfer-Encoding") || HTTPHeaders.namesMatch(field.name, "Expect")
            {
                continue
            }
            // Credentials go only to the origin they were given for (CredentialScope).
            if filtersCredentials && !request.credentialScope.allows(field.name, to: request.url) { continue }
            try append(field.name, field.value, to: &bytes)
        }
        bytes += "\r\n".utf8
        return bytes
    }

    private static func append(_ name: String, _ value: String, to bytes: inout [UInt8]) throws {
        guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
            throw HTTPClientError.invalidRequest("header name \(name.debugDescription) is not a token")
        }
        guard value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HTTPClientError.invalidRequest("the value of header \(name.debugDescription) has a control character (CR, LF or NUL)")
        }
        bytes += name.utf8
        bytes += ": ".utf8
        bytes += value.utf8
        bytes += "\r\n".utf8
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

// Here rather than in HTTPHeaders.swift, which the fuzz targets compile on its own.
extension HTTPHeaders {
    /// Whether `name` may be a field name: a non-empty RFC 9110 token (what `RequestWriter` accepts).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { RequestWriter.isTokenByte($0) }
    }
}
