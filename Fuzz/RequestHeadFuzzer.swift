// libFuzzer target for the test server's request head parser (Sources/HTTPTestServer/
// RequestHead.swift, compiled alone): any bytes give a head or a RequestHeadError (400 or 505),
// never a crash. An accepted head has a token method, a target of visible ASCII, HTTP/1.0 or
// 1.1, token field names and values with no control byte or edge whitespace; written out again
// it parses to the same head, and its path and query are those of its target.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestHead(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let head: RequestHead
    do {
        head = try RequestHead.parse(bytes[...])
    } catch {
        require(error.status == 400 || error.status == 505, "status \(error.status)")
        return 0
    }
    let what = String(decoding: bytes, as: UTF8.self).debugDescription
    require(!head.method.isEmpty && head.method.utf8.allSatisfy(isTokenByte), "method \(head.method.debugDescription) from \(what)")
    require(!head.target.isEmpty && head.target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "target from \(what)")
    require(head.minorVersion == 0 || head.minorVersion == 1, "version 1.\(head.minorVersion) from \(what)")
    require(head.requestLine == "\(head.method) \(head.target) HTTP/1.\(head.minorVersion)", "request line from \(what)")
    for field in head.fields {
        require(!field.name.isEmpty && field.name.utf8.allSatisfy(isTokenByte), "field name \(field.name.debugDescription) from \(what)")
        let value = field.value.utf8
        require(value.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }, "field value \(field.value.debugDescription) from \(what)")
        require(value.first.map { $0 != 0x20 && $0 != 0x09 } ?? true, "leading space in a value from \(what)")
        require(value.last.map { $0 != 0x20 && $0 != 0x09 } ?? true, "trailing space in a value from \(what)")
        require(head.field(field.name.uppercased()) != nil, "field(_:) does not find \(field.name) from \(what)")
    }
    let split = splitTarget(head.target)
    require(head.path == split.path && head.query == split.query, "path or query from \(what)")
    require(!head.path.contains("?") && !head.path.contains("#"), "path \(head.path.debugDescription) from \(what)")
    _ = head.wantsKeepAlive
    // Written out with CRLFs and one space after each colon: the same head.
    var written = head.requestLine + "\r\n"
    for field in head.fields { written += "\(field.name): \(field.value)\r\n" }
    let again: RequestHead
    do {
        again = try RequestHead.parse(Array(written.utf8)[...])
    } catch {
        fatalError("\(what) written out as \(written.debugDescription) is refused: \(error)")
    }
    require(
        again.method == head.method && again.target == head.target && again.minorVersion == head.minorVersion
            && again.fields.map(\.name) == head.fields.map(\.name) && again.fields.map(\.value) == head.fields.map(\.value)
            && again.requestLine == head.requestLine,
        "\(what) written out as \(written.debugDescription) parses differently")
    return 0
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
