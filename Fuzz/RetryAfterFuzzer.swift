// libFuzzer target for Retry-After (Sources/HTTPClient/RetryAfter.swift with HTTPDate and the
// head and header types): input "RETRY-AFTER\0DATE" (the Date field only when there is a NUL).
// Any value gives no wait or a wait of zero or more seconds, never a crash; delay-seconds give
// exactly their number (clamped past ten digits), an HTTP-date its distance from the response's
// Date (or from now without a valid one), and anything else no wait.

private let now: Int64 = 1_767_225_600  // 2026-01-01T00:00:00Z

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRetryAfter(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let nul = bytes.firstIndex(of: 0)
    let value = String(decoding: bytes[..<(nul ?? size)], as: UTF8.self)
    let date = nul.map { String(decoding: bytes[($0 + 1)...], as: UTF8.self) }
    var fields = [("Retry-After", value)]
    if let date { fields.append(("Date", date)) }
    let head = HTTPResponseHead(version: "HTTP/1.1", status: 503, reason: "", headers: HTTPHeaders(fields), keepAlive: true)
    let wait = head.retryAfter(now: now)
    let what = "\(value.debugDescription) with Date \(date?.debugDescription ?? "none")"
    let trimmed = value.trimmingCharacters(in: " \t")
    if trimmed.isEmpty {
        require(wait == nil, "a wait from \(what)")
    } else if trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
        let expected = trimmed.count > 10 ? 9_999_999_999 : Int64(trimmed)!  // ten digits at most, digits only
        require(wait == .seconds(expected), "\(String(describing: wait)) from \(what)")
    } else if let retryDate = HTTPDate.parse(trimmed) {
        let reference = date.flatMap(HTTPDate.parse) ?? now
        require(wait == .seconds(max(0, retryDate - reference)), "\(String(describing: wait)) from \(what)")
    } else {
        require(wait == nil, "a wait from \(what)")
    }
    if let wait { require(wait >= .zero, "a negative wait from \(what)") }
    return 0
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
