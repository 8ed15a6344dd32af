// libFuzzer target for HTTPURL (Sources/HTTPClient/HTTPURL.swift, with HTTPCredential.swift and
// the NetCore stand-in): URL parsing and the resolution of a reference (a redirect's Location)
// against a base. Input: "BASE\0REFERENCE", or without a NUL one text that is parsed as a URL
// and resolved against an http base and an http+unix base. Whatever parses keeps every rule a
// request line and a Host header rely on (no control, space or non-ASCII byte in the target, a
// valid host, a port in 1...65535), its description parses back to the same URL, a reference
// resolved against a network base never names a local socket, and a relative one keeps the
// base's origin and has no dot segment left.

import NetCore  // the stand-in (Fuzz/Support/NetCoreStandIn.swift), for SocketAddress.maxUnixPathLength

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPURL(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    if let nul = bytes.firstIndex(of: 0) {
        let baseText = String(decoding: bytes[..<nul], as: UTF8.self)
        guard let base = try? HTTPURL(baseText) else { return 0 }
        checkURL(base, from: baseText)
        checkResolution(base, String(decoding: bytes[(nul + 1)...], as: UTF8.self))
        return 0
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let url = try? HTTPURL(text) { checkURL(url, from: text) }
    for base in fixedBases { checkResolution(base, text) }
    return 0
}

// Both parse: these are seeds, not inputs.
private let fixedBases = [
    try! HTTPURL("http://example.com:8080/a/b/c?q=1"), try! HTTPURL("http+unix://%2Ftmp%2Fapp.sock/d/e/f"),
]

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

private func checkURL(_ url: HTTPURL, from text: String) {
    let what = text.debugDescription
    require(HTTPURL.schemes.contains(url.scheme), "scheme \(url.scheme) from \(what)")
    require(url.port != 0, "port 0 from \(what)")
    require(url.target.first == "/", "target \(url.target.debugDescription) from \(what)")
    require(
        url.target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x3C && $0 != 0x3E && $0 != 0x23 },
        "unsafe byte in the target \(url.target.debugDescription) from \(what)")
    if let socket = url.unixSocketPath {
        require(url.scheme.hasSuffix("+unix") && url.host == "localhost", "a socket path on \(url.scheme) from \(what)")
        require(!socket.isEmpty && !socket.utf8.contains(0), "socket path \(socket.debugDescription) from \(what)")
        require(socket.utf8.count <= SocketAddress.maxUnixPathLength, "socket path too long from \(what)")
        require(url.credential == nil, "a credential on a socket URL from \(what)")
    } else {
        require(!url.scheme.hasSuffix("+unix"), "a +unix URL without a socket from \(what)")
        require(!url.host.isEmpty && url.host == url.host.lowercased(), "host \(url.host.debugDescription) from \(what)")
        let isName = url.host.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F
        }
        let isIPv6 = url.host.contains(":") && url.host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        require(isName || isIPv6, "host \(url.host.debugDescription) from \(what)")
    }
    if let credential = url.credential {
        require(!credential.user.contains(":"), "a ':' in the user from \(what)")
        require(
            !(credential.user + credential.password).unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F },
            "a control character in the credential from \(what)")
    }
    // The description leaves the credential out, and parses back to the rest.
    let reparsed: HTTPURL
    do {
        reparsed = try HTTPURL(url.description)
    } catch {
        fatalError("\(url.description.debugDescription) (from \(what)) does not parse again: \(error)")
    }
    require(reparsed == url.withoutCredential, "\(what) -> \(url.description.debugDescription) parses to another URL")
}

private func checkResolution(_ base: HTTPURL, _ reference: String) {
    guard let resolved = try? base.resolving(reference) else { return }
    let what = "\(reference.debugDescription) against \(base)"
    checkURL(resolved, from: what)
    if base.unixSocketPath == nil {
        require(resolved.unixSocketPath == nil, "\(what) names a local socket")
    }
    // Classified by bytes, as RFC 3986 reads a reference (not by Swift Characters, which a
    // combining mark can join to a delimiter).
    let trimmed = Array(reference.utf8.prefix { $0 != UInt8(ascii: "#") })
    let isNetworkPath = trimmed.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")])
    if HTTPURL.scheme(of: Substring(String(decoding: trimmed, as: UTF8.self))) != nil {
        // An absolute reference is the URL it spells.
        require(resolved == (try? HTTPURL(String(decoding: trimmed, as: UTF8.self))), "\(what) differs from the URL it spells")
    } else if !isNetworkPath {
        require(
            resolved.scheme == base.scheme && resolved.host == base.host && resolved.port == base.port
                && resolved.unixSocketPath == base.unixSocketPath && resolved.credential == nil,
            "\(what) left the base's origin: \(resolved)")
        if !trimmed.isEmpty && trimmed.first != UInt8(ascii: "?") {
            let segments = resolved.path.split(separator: "/", omittingEmptySubsequences: false)
            require(!segments.contains(".") && !segments.contains(".."), "\(what) keeps a dot segment: \(resolved.path)")
            // Its own target, as a reference, leads back to it (unless it starts "//": a path of
            // the URL, but as a reference a network path).
            if !resolved.target.hasPrefix("//") {
                require((try? resolved.resolving(resolved.target)) == resolved, "\(what): its target does not resolve to itself")
            }
        }
    }
    // The resolved URL written out leads back to it from the same base.
    require((try? base.resolving(resolved.description)) == resolved.withoutCredential, "\(what): \(resolved) does not resolve to itself")
}
