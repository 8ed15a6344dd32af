/// The bytes that open a tunnel to an origin through a proxy, with no I/O: an HTTP CONNECT
/// (RFC 9110 §9.3.6) or a SOCKS5 CONNECT (RFC 1928, user/password by RFC 1929). A driver on
/// either engine writes what it says, reads when it says, and hands the connection on once
/// it says `.open`.
struct ProxyHandshake {
    enum Action: Equatable {
        /// Write these bytes, then call `wrote()`.
        case write([UInt8])
        /// Read what arrives and pass it to `received(_:)` (or `ended()` at end of stream).
        case read
        /// The tunnel is open: the connection now carries the origin's bytes.
        case open
        case failed(ProxyError)
    }

    /// Where the tunnel goes: a name (sent to the proxy, `socks5h` and HTTP proxies) or the
    /// address it was resolved to here (`socks5`).
    enum Destination: Equatable {
        case name(String, port: UInt16)
        case address([UInt8], port: UInt16)
    }

    private enum State {
        case connectHead
        case socksGreeting
        case socksAuthentication
        case socksReply
        case done
    }

    private let proxy: HTTPProxy
    /// Where the tunnel goes.
    let destination: Destination
    private var state: State
    private var buffer: [UInt8] = []
    private let maxHeadBytes = 16 << 10

    init(proxy: HTTPProxy, destination: Destination) {
        self.proxy = proxy
        self.destination = destination
        state = proxy.speaksHTTP ? .connectHead : .socksGreeting
    }

    /// The first bytes to send.
    mutating func start() -> Action {
        switch state {
        case .connectHead: return connectRequest()
        default:
            // Offer user/password only with credentials: a proxy that wants them then says so.
            return .write(proxy.credential == nil ? [5, 1, 0] : [5, 2, 0, 2])
        }
    }

    /// A write finished: now the reply.
    mutating func wrote() -> Action { state == .done ? .open : .read }

    mutating func ended() -> Action {
        state = .done
        return .failed(.closedDuringHandshake(proxy: proxy.description))
    }

    mutating func received(_ bytes: some Collection<UInt8>) -> Action {
        buffer += bytes
        switch state {
        case .connectHead: return connectReply()
        case .socksGreeting: return socksGreeting()
        case .socksAuthentication: return socksAuthentication()
        case .socksReply: return socksReply()
        case .done: return .failed(.malformedReply(proxy: proxy.description, "bytes after the handshake"))
        }
    }

    // MARK: - HTTP CONNECT

    private func connectRequest() -> Action {
        let authority: String
        switch destination {
        case .name(let host, let port): authority = (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        case .address(let bytes, let port): authority = Self.text(of: bytes) + ":\(port)"
        }
        var head = "CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n"
        if let credential = proxy.credential { head += "Proxy-Authorization: \(credential.basicAuthorization)\r\n" }
        return .write(Array((head + "\r\n").utf8))
    }

    private mutating func connectReply() -> Action {
        guard let end = Self.endOfHead(in: buffer) else {
            return buffer.count > maxHeadBytes ? fail(.malformedReply(proxy: proxy.description, "a reply head over 16 KiB")) : .read
        }
        let lines = String(decoding: buffer[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        // HTTP/1.DIGIT SP 3DIGIT (RFC 9112 §4), by bytes: "HTTP/1.<anything>" is no version, "+20" no status.
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[0].utf8.count == 8, parts[0].utf8.last.map(isDigit) == true,
            parts[1].utf8.count == 3, parts[1].utf8.allSatisfy(isDigit), let status = Int(parts[1])
        else {
            return fail(.malformedReply(proxy: proxy.description, "not an HTTP status line: \(statusLine.prefix(60).debugDescription)"))
        }
        let reason = parts.count > 2 ? String(parts[2]) : ""
        switch status {
        case 200..<300:
            // The tunnel starts right after the head; the origin has not spoken (TLS: we speak first).
            guard buffer.count == end + 4 else {
                return fail(.malformedReply(proxy: proxy.description, "bytes after the CONNECT reply, before the tunnel was used"))
            }
            state = .done
            return .open
        case 407: return fail(.authenticationRequired(proxy: proxy.description, hadCredentials: proxy.credential != nil))
        default: return fail(.refused(proxy: proxy.description, status: status, reason: reason))
        }
    }

    private static func endOfHead(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 0x0D && bytes[index + 1] == 0x0A && bytes[index + 2] == 0x0D && bytes[index + 3] == 0x0A {
            return index
        }
        return nil
    }

    // MARK: - SOCKS5

    private mutating func socksGreeting() -> Action {
        guard buffer.count >= 2 else { return .read }
        guard buffer.count == 2, buffer[0] == 5 else { return fail(.malformedReply(proxy: proxy.description, "not a SOCKS5 reply")) }
        let method = buffer[1]
        buffer.removeAll()
        switch method {
        case 0: return socksRequest()
        case 2 where proxy.credential != nil:
            let credential = proxy.credential!  // checked in the pattern
            let user = Array(credential.user.utf8)
            let password = Array(credential.password.utf8)
            guard user.count <= 255, password.count <= 255 else { return fail(.socksAuthenticationFailed(proxy: proxy.description)) }
            state = .socksAuthentication
            return .write([1, UInt8(user.count)] + user + [UInt8(password.count)] + password)
        default:
            return fail(.socksMethodRefused(proxy: proxy.description, offeredCredentials: proxy.credential != nil))
        }
    }

    private mutating func socksAuthentication() -> Action {
        guard buffer.count >= 2 else { return .read }
        guard buffer.count == 2, buffer[0] == 1 else { return fail(.malformedReply(proxy: proxy.description, "not an RFC 1929 reply")) }
        guard buffer[1] == 0 else { return fail(.socksAuthenticationFailed(proxy: proxy.description)) }
        buffer.removeAll()
        return socksRequest()
    }

    private mutating func socksRequest() -> Action {
        var request: [UInt8] = [5, 1, 0]
        let port: UInt16
        switch destination {
        case .name(let host, let destinationPort):
            let name = Array(host.utf8)
            guard name.count <= 255 else { return fail(.socksNameTooLong(host)) }
            request += [3, UInt8(name.count)] + name
            port = destinationPort
        case .address(let bytes, let destinationPort):
            request += [bytes.count == 4 ? 1 : 4] + bytes
            port = destinationPort
        }
        state = .socksReply
        return .write(request + [UInt8(port >> 8), UInt8(port & 0xFF)])
    }

    private mutating func socksReply() -> Action {
        guard buffer.count >= 5 else { return .read }
        guard buffer[0] == 5, buffer[2] == 0 else { return fail(.malformedReply(proxy: proxy.description, "not a SOCKS5 reply")) }
        guard buffer[1] == 0 else { return fail(.socksFailure(proxy: proxy.description, code: buffer[1])) }
        let addressLength: Int
        switch buffer[3] {
        case 1: addressLength = 4
        case 3: addressLength = 1 + Int(buffer[4])
        case 4: addressLength = 16
        default: return fail(.malformedReply(proxy: proxy.description, "address type \(buffer[3])"))
        }
        let length = 4 + addressLength + 2
        guard buffer.count >= length else { return .read }
        guard buffer.count == length else {
            return fail(.malformedReply(proxy: proxy.description, "bytes after the SOCKS5 reply, before the tunnel was used"))
        }
        state = .done
        return .open
    }

    private mutating func fail(_ error: ProxyError) -> Action {
        state = .done
        return .failed(error)
    }

    /// An address as text: dotted IPv4 or colon-separated IPv6 (uncompressed, which is valid).
    private static func text(of bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: bytes.count, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return "[" + groups.joined(separator: ":") + "]"
    }
}
