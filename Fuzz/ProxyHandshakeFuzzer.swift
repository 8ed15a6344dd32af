// libFuzzer target for the proxy tunnel handshake (Sources/HTTPClient/Proxy/ProxyHandshake.swift:
// the replies of an HTTP proxy to CONNECT, of a SOCKS5 proxy to its greeting, RFC 1929 login
// and CONNECT). Input: one byte choosing the proxy (HTTP, SOCKS5, with or without a credential)
// and the destination (a name or an IPv4/IPv6 address), then the proxy's bytes as pieces of
// [length][bytes], each piece what one read returns. Driven as both engines drive it, the
// handshake ends open or failed within a bounded number of steps, never a crash; it opens only
// on a well-formed reply (a 2xx status line of three digits whose head ends the bytes, or a
// SOCKS5 success reply of exactly its length), a status it reports came from three digits, it
// asks to write only its own requests, and after it ends any more bytes are refused.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProxyHandshake(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let choice = bytes.first else { return 0 }
    var pieces: [[UInt8]] = []
    var index = 1
    while index < bytes.count {
        let count = min(Int(bytes[index]), bytes.count - index - 1)
        pieces.append(Array(bytes[(index + 1)..<(index + 1 + count)]))
        index += 1 + count
    }
    // Both parse: fixed text, not input.
    let credential = choice & 1 != 0 ? try! HTTPCredential(user: "user", password: "secret") : nil
    let kinds: [HTTPProxy.Kind] = [.http, .https, .socks5, .socks5h]
    let proxy = HTTPProxy(kind: kinds[Int(choice >> 1) & 3], host: "proxy.example", port: 1080, credential: credential)
    let destinations: [ProxyHandshake.Destination] = [
        .name("origin.example", port: 443), .address([192, 0, 2, 7], port: 8443),
        .address([0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1], port: 443), .name("[::1]", port: 1),
    ]
    run(proxy: proxy, destination: destinations[Int(choice >> 3) & 3], pieces: pieces)
    return 0
}

private func run(proxy: HTTPProxy, destination: ProxyHandshake.Destination, pieces: [[UInt8]]) {
    var handshake = ProxyHandshake(proxy: proxy, destination: destination)
    var action = handshake.start()
    var remaining = pieces[...]
    var fed: [UInt8] = []  // since the last write: the reply to it
    var steps = 0
    while true {
        steps += 1
        require(steps <= 2 * pieces.count + 10, "no progress after \(steps) steps")
        switch action {
        case .write(let request):
            checkRequest(request, proxy: proxy)
            fed = []
            action = handshake.wrote()
        case .read:
            guard let piece = remaining.popFirst() else {
                let ended = handshake.ended()
                require(ended == .failed(.closedDuringHandshake(proxy: proxy.description)), "the end of the stream gave \(ended)")
                return
            }
            fed += piece
            action = handshake.received(piece)
        case .open:
            checkOpened(fed, proxy: proxy)
            checkEnded(&handshake)
            return
        case .failed(let error):
            if proxy.speaksHTTP, case .refused(_, let status, _) = error {
                let line = fed.split(separator: 0x0D, maxSplits: 1, omittingEmptySubsequences: false)[0]
                let code = line.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false).dropFirst().first ?? []
                require(
                    code.count == 3 && code.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && Int(String(decoding: code, as: UTF8.self)) == status,
                    "status \(status) from \(String(decoding: line, as: UTF8.self).debugDescription)")
            }
            checkEnded(&handshake)
            return
        }
    }
}

/// What the client sends: a CONNECT head with no stray line break, or SOCKS5's fixed forms.
private func checkRequest(_ request: [UInt8], proxy: HTTPProxy) {
    require(!request.isEmpty, "an empty write")
    if proxy.speaksHTTP {
        let text = String(decoding: request, as: UTF8.self)
        require(text.hasPrefix("CONNECT ") && text.hasSuffix("\r\n\r\n"), "CONNECT head \(text.debugDescription)")
        require(text.components("\r\n") == (proxy.credential == nil ? 3 : 4), "CONNECT head lines in \(text.debugDescription)")
    } else {
        require(request.count <= 3 + 1 + 1 + 255 + 2, "a SOCKS5 message of \(request.count) bytes")
        require(request[0] == 5 || request[0] == 1, "SOCKS5 message starting \(request[0])")
    }
}

/// The reply that opened the tunnel is a well-formed success.
private func checkOpened(_ reply: [UInt8], proxy: HTTPProxy) {
    if proxy.speaksHTTP {
        let text = String(decoding: reply, as: UTF8.self)
        require(text.hasSuffix("\r\n\r\n"), "opened on \(text.debugDescription)")
        require(text.components("\r\n\r\n") == 1, "opened with bytes after the head: \(text.debugDescription)")
        // "HTTP/1." DIGIT SP "2" DIGIT DIGIT, then SP or the line's end.
        let line = Array(reply.prefix { $0 != 0x0D })
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        require(
            line.count >= 12 && line.starts(with: Array("HTTP/1.".utf8)) && isDigit(line[7]) && line[8] == 0x20
                && line[9] == UInt8(ascii: "2") && isDigit(line[10]) && isDigit(line[11]) && (line.count == 12 || line[12] == 0x20),
            "opened on the status line \(String(decoding: line, as: UTF8.self).debugDescription)")
    } else {
        // The shortest: a bound address that is an empty name (the client does not use it).
        require(reply.count >= 7 && reply[0] == 5 && reply[1] == 0 && reply[2] == 0, "opened on SOCKS5 reply \(reply)")
        let length: Int
        switch reply[3] {
        case 1: length = 10
        case 3: length = 7 + Int(reply[4])
        case 4: length = 22
        default: fatalError("opened on address type \(reply[3])")
        }
        require(reply.count == length, "opened on a SOCKS5 reply of \(reply.count) bytes, not \(length)")
    }
}

/// After the end, bytes are refused.
private func checkEnded(_ handshake: inout ProxyHandshake) {
    guard case .failed = handshake.received([0x48]) else { fatalError("bytes accepted after the handshake ended") }
}

extension String {
    /// How many times `separator` occurs.
    fileprivate func components(_ separator: String) -> Int { split(separator: separator, omittingEmptySubsequences: false).count - 1 }
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
