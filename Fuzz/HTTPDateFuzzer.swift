// libFuzzer target for HTTP-date (Sources/HTTPClient/HTTPDate.swift, compiled alone): any text
// parses to nil or to a time that formats back to an IMF-fixdate naming the same time.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPDate(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let seconds = HTTPDate.parse(text) else { return 0 }
    guard HTTPDate.parse(HTTPDate.format(seconds)) == seconds else { fatalError("\(text.debugDescription) does not round-trip") }
    return 0
}
