/// Serializes a request head (RFC 9112 §3): the request line, Host first, then the fields.
/// Refuses any name or value that would change the message's framing.
enum RequestWriter {
    /// - Throws: `HTTPClientError.invalidRequest` for a bad method, header name or value.
    static func head(for request: HTTPRequest, userAgent: String) throws -> [UInt8] {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(isTokenByte) else {
            throw HTTPClientError.invalidRequest("method \(request.method.debugDescription) is not a token")
        }
        var fields: [(String, String)] = [("Host", request.url.authority)]
        let given = Set(request.headers.map { $0.name.lowercased() })
        if !given.contains("user-agent") { fields.append(("User-Agent", userAgent)) }
        if !given.contains("accept") { fields.append(("Accept", "*/*")) }
        if let range = request.range { fields.append(("Range", range.headerValue)) }
        if let ifRange = request.ifRange { fields.append(("If-Range", ifRange.headerValue)) }
        if let body = request.body { fields.append(("Content-Length", String(body.count))) }
        for (name, value) in request.headers {
            let lower = name.lowercased()
            if lower == "host" {
                fields[0].1 = value
            } else if lower != "content-length" && lower != "transfer-encoding" {  // framing is ours to set
                fields.append((name, value))
            }
        }
        var text = "\(request.method) \(request.url.target) HTTP/1.1\r\n"
        for (name, value) in fields {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                throw HTTPClientError.invalidRequest("header name \(name.debugDescription) is not a token")
            }
            guard value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw HTTPClientError.invalidRequest("the value of header \(name.debugDescription) has a control character (CR, LF or NUL)")
            }
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
