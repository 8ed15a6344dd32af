/// A response whose body is small enough to hold in memory (status pages, redirects, /echo).
struct SimpleResponse {
    var status: Int
    var fields: [(name: String, value: String)] = []
    var body: [UInt8] = []

    /// A status with a one-line text body ("404 Not Found\n"), or none where the status forbids one.
    static func text(_ status: Int, _ message: String? = nil) -> SimpleResponse {
        var response = SimpleResponse(status: status, fields: [("Content-Type", "text/plain; charset=utf-8")])
        if statusAllowsBody(status) {
            response.body = Array("\(status) \(reasonPhrase(status))\(message.map { ": \($0)" } ?? "")\n".utf8)
        }
        return response
    }
}

/// 1xx, 204 and 304 responses never carry a body (RFC 9110 §6.4.1).
func statusAllowsBody(_ status: Int) -> Bool {
    !(100..<200).contains(status) && status != 204 && status != 304
}

/// The head of a response: status line, fields, the empty line.
/// - Parameters:
///   - fields: fields in order; `Content-Length`/`Transfer-Encoding` must already be among them.
///   - keepAlive: false adds `Connection: close`.
func responseHead(status: Int, fields: [(name: String, value: String)], keepAlive: Bool) -> [UInt8] {
    var text = "HTTP/1.1 \(status) \(reasonPhrase(status))\r\nServer: StacklessNet-TestServer\r\n"
    for field in fields { text += "\(field.name): \(field.value)\r\n" }
    if !keepAlive { text += "Connection: close\r\n" }
    text += "\r\n"
    return Array(text.utf8)
}

/// Head and body of `response` as one buffer (a single write), with Content-Length where the
/// status allows a body. `isHead`: a HEAD request gets the same head and no body.
func serialize(_ response: SimpleResponse, isHead: Bool, keepAlive: Bool) -> [UInt8] {
    var fields = response.fields
    if statusAllowsBody(response.status) { fields.append(("Content-Length", String(response.body.count))) }
    var bytes = responseHead(status: response.status, fields: fields, keepAlive: keepAlive)
    if !isHead && statusAllowsBody(response.status) { bytes += response.body }
    return bytes
}

/// The usual reason phrase for `status` (RFC 9110 §15), or a generic one by class.
func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 100: return "Continue"
    case 200: return "OK"
    case 201: return "Created"
    case 202: return "Accepted"
    case 204: return "No Content"
    case 206: return "Partial Content"
    case 301: return "Moved Permanently"
    case 302: return "Found"
    case 303: return "See Other"
    case 304: return "Not Modified"
    case 307: return "Temporary Redirect"
    case 308: return "Permanent Redirect"
    case 400: return "Bad Request"
    case 401: return "Unauthorized"
    case 403: return "Forbidden"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 408: return "Request Timeout"
    case 410: return "Gone"
    case 411: return "Length Required"
    case 413: return "Content Too Large"
    case 416: return "Range Not Satisfiable"
    case 429: return "Too Many Requests"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 501: return "Not Implemented"
    case 502: return "Bad Gateway"
    case 503: return "Service Unavailable"
    case 504: return "Gateway Timeout"
    case 505: return "HTTP Version Not Supported"
    default:
        switch status / 100 {
        case 1: return "Informational"
        case 2: return "Success"
        case 3: return "Redirection"
        case 4: return "Client Error"
        default: return "Server Error"
        }
    }
}
