// libFuzzer target for Content-Range (Sources/HTTPClient/RangeTypes.swift, with the
// HTTPClientError stand-in): any text parses or throws invalidContentRange, never a crash. A
// parsed range has first <= last < complete length, its description parses back to it, it
// validates against the requests it answers, and `bytes */N` (a 416's) gives N back.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContentRange(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let length = ContentRange.unsatisfiedLength(text) {
        require(ContentRange.unsatisfiedLength("bytes */\(length)") == length, "bytes */\(length) from \(text.debugDescription)")
    }
    let range: ContentRange
    do {
        range = try ContentRange(parsing: text)
    } catch HTTPClientError.invalidContentRange {
        return 0
    } catch {
        fatalError("\(text.debugDescription) threw \(error)")
    }
    require(range.first <= range.last, "first > last from \(text.debugDescription)")
    if let complete = range.completeLength { require(range.last < complete, "last >= complete from \(text.debugDescription)") }
    require(range.count == range.last - range.first + 1 && range.count > 0, "count from \(text.debugDescription)")
    require((try? ContentRange(parsing: range.description)) == range, "\(range) does not parse back (from \(text.debugDescription))")
    for request in [ByteRange.from(range.first), .bounded(first: range.first, last: range.last), .suffix(range.count)] {
        let answers: Bool
        if case .suffix = request { answers = range.completeLength.map { range.last == $0 - 1 } ?? true } else { answers = true }
        require(((try? range.validate(against: request)) != nil) == answers, "\(range) against \(request)")
    }
    if range.first > 0 {
        require((try? range.validate(against: .from(range.first - 1))) == nil, "\(range) accepted for another start")
    }
    return 0
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
