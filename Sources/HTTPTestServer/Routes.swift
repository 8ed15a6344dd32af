import NetCore

/// What the server does with one request.
enum RouteAction {
    /// A small response held in memory.
    case simple(SimpleResponse)
    /// Generated content, with a body fault or none.
    case generated(GeneratedResponse, BodyFault?)
    /// Broken bytes instead of a response, then close.
    case malformed(MalformedKind)
}

/// Maps a request to its action. Pure apart from `onceTokens`, which records `once=` tokens.
///
/// - `/gen/<size>`: generated content (see `GeneratedResponse`), with `fault=` from `Fault`.
/// - `/status/<code>`, `/redirect/<code>?to=`, `/redirect-chain/<n>?code=`, `/redirect-loop`,
///   `/redirect-loop2`, `/echo`; anything else 404.
/// - `/encoded/<size>?encoding=C`: `size` bytes (at most 64 MiB) of generated content (`seed=`),
///   or of zeros with `content=zeros`, encoded whole with C (gzip, deflate, rawdeflate, br,
///   zstd) and sent with `Content-Encoding` and `Content-Length`; `cut=N` sends only the first
///   N encoded bytes (a stream cut short), `garbage=1` appends bytes after the stream.
/// - `auth=USER:PASSWORD` on any of them: 401 with `WWW-Authenticate: Basic realm="test"` unless
///   the request carries exactly that Basic credential.
/// - `noHead=1` on any of them: a HEAD is answered 405 (as servers that refuse HEAD do).
func route(_ head: RequestHead, body: [UInt8], onceTokens: inout OnceTokens) -> RouteAction {
    let path = Substring(head.path)
    if head.method == "HEAD" && head.query["noHead"] == "1" {
        var response = SimpleResponse.text(405, "HEAD refused (noHead=1)")
        response.fields.append(("Allow", "GET"))
        return .simple(response)
    }
    if let expected = head.query["auth"], head.field("Authorization") != "Basic " + Base64.encode(Array(expected.utf8)) {
        var response = SimpleResponse.text(401, "this URL wants Basic credentials")
        response.fields.append(("WWW-Authenticate", "Basic realm=\"test\""))
        return .simple(response)
    }
    if let sizeText = suffix(of: path, after: "/gen/") {
        return generate(sizeText: sizeText, head: head, onceTokens: &onceTokens)
    }
    if let codeText = suffix(of: path, after: "/status/") {
        guard let code = Int(codeText), (200...599).contains(code) else {
            return .simple(.text(400, "status must be 200-599"))
        }
        return .simple(.text(code))
    }
    if let codeText = suffix(of: path, after: "/redirect/") {
        guard let code = Int(codeText), isRedirect(code) else {
            return .simple(.text(400, "redirect code must be 301, 302, 303, 307 or 308"))
        }
        guard let target = head.query["to"], !target.isEmpty else { return .simple(.text(400, "to= is missing")) }
        return .simple(redirect(code, to: target))
    }
    if let sizeText = suffix(of: path, after: "/encoded/") { return .simple(encoded(sizeText: sizeText, head: head)) }
    if let countText = suffix(of: path, after: "/redirect-chain/") {
        guard let count = Int(countText), count >= 0 else { return .simple(.text(400, "the chain length must be >= 0")) }
        let codeText = head.query["code"] ?? "302"
        guard let code = Int(codeText), isRedirect(code) else {
            return .simple(.text(400, "code must be 301, 302, 303, 307 or 308"))
        }
        let target = count == 0 ? "/gen/1024" : "/redirect-chain/\(count - 1)?code=\(code)"
        return .simple(redirect(code, to: target))
    }
    switch path {
    case "/redirect-loop": return .simple(redirect(302, to: "/redirect-loop2"))
    case "/redirect-loop2": return .simple(redirect(302, to: "/redirect-loop"))
    case "/echo": return .simple(echo(head, body: body))
    default: return .simple(.text(404))
    }
}

private func generate(sizeText: Substring, head: RequestHead, onceTokens: inout OnceTokens) -> RouteAction {
    let fault: Fault?
    do {
        fault = try Fault.parse(head.query)
    } catch {
        return .simple(.text(400, error.message))
    }
    // The once token is spent only by a request that would fire a fault.
    var active = fault
    if fault != nil, let token = head.query["once"], !onceTokens.firstSighting(token) { active = nil }
    // `counter=T&changeAfter=K`: from the K+1-th request carrying T on, another version of the
    // file (seed + 1, so another ETag too): a file that changes on the server mid-download.
    var head = head
    if let token = head.query["counter"], let after = head.query["changeAfter"].flatMap({ UInt64($0) }),
        UInt64(onceTokens.countRequest(token)) > after
    {
        let seed = head.query["seed"].flatMap { UInt64($0) } ?? 1
        head.query["seed"] = String(seed &+ 1)
    }
    switch active {
    case .malformed(let kind)?:
        return .malformed(kind)
    case .status(let code)?:
        var response = SimpleResponse.text(code, "injected by fault=status")
        if let wait = head.query["retryAfter"] ?? (code == 503 ? "1" : nil) { response.fields.append(("Retry-After", wait)) }
        return .simple(response)
    default:
        switch GeneratedResponse.make(sizeText: sizeText, head: head) {
        case .success(let response):
            let isHead = head.method == "HEAD"
            return .generated(response, isHead ? nil : active.flatMap(BodyFault.init))
        case .failure(let box):
            return .simple(box.response)
        }
    }
}

private func redirect(_ code: Int, to target: String) -> SimpleResponse {
    var response = SimpleResponse.text(code, "see \(target)")
    response.fields.append(("Location", target))
    return response
}

private func isRedirect(_ code: Int) -> Bool { [301, 302, 303, 307, 308].contains(code) }

/// The request as the server saw it: request line, each field as `name: value`, an empty line,
/// then the body bytes. Lines end in LF.
private func echo(_ head: RequestHead, body: [UInt8]) -> SimpleResponse {
    var text = head.requestLine + "\n"
    for field in head.fields { text += "\(field.name): \(field.value)\n" }
    text += "\n"
    return SimpleResponse(status: 200, fields: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8) + body)
}

/// The rest of `path` after `prefix`, or nil when it does not start with it or nothing follows.
private func suffix(of path: Substring, after prefix: String) -> Substring? {
    guard path.hasPrefix(prefix) else { return nil }
    let rest = path.dropFirst(prefix.count)
    return rest.isEmpty ? nil : rest
}

private func encoded(sizeText: Substring, head: RequestHead) -> SimpleResponse {
    guard let size = Int(sizeText), size >= 0, size <= 64 << 20 else { return .text(400, "size must be 0-64 MiB") }
    guard let coding = head.query["encoding"] else { return .text(400, "encoding= is missing") }
    var plain = [UInt8](repeating: 0, count: size)
    if head.query["content"] != "zeros" {
        let seed = head.query["seed"].flatMap { UInt64($0) } ?? 1
        plain.withUnsafeMutableBytes { GeneratedContent.fill($0, seed: seed, offset: 0) }
    }
    guard var body = ContentEncoder.encode(plain, as: coding) else { return .text(400, "unknown encoding \(coding)") }
    if let cut = head.query["cut"].flatMap({ Int($0) }), cut < body.count { body.removeSubrange(cut...) }
    if head.query["garbage"] == "1" { body += Array("TRAILING GARBAGE".utf8) }
    let name = coding == "rawdeflate" ? "deflate" : coding
    return SimpleResponse(status: 200, fields: [("Content-Type", "application/octet-stream"), ("Content-Encoding", name)], body: body)
}
