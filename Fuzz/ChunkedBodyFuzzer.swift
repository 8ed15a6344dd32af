// libFuzzer target for the test server's chunked request body decoder (Sources/HTTPTestServer/
// ChunkedBodyDecoder.swift, compiled alone). Any bytes, fed whole, byte by byte, and split at
// points the input chooses, give the same answer (a body and where it ends, a need for more
// bytes, or the same ChunkedBodyError), never a crash. A complete body ends with the CRLF of
// its empty trailer line, keeps at most `keep` bytes, never passes `limit`, and its chunk
// sizes are 1*HEXDIG (RFC 9112 §7.1). And a payload the input chooses, chunked at sizes the
// input chooses and followed by the next request, decodes to itself and stops at that request.

private let keep = 1 << 12
private let limit: UInt64 = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunkedBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = decode(bytes, splits: [])
    let byByte = decode(bytes, splits: Array(0..<bytes.count))
    let chosen = decode(bytes, splits: bytes.indices.filter { bytes[$0] & 0x0F == 0x07 })
    require(whole == byByte && whole == chosen, "split feeds disagree on \(String(decoding: bytes, as: UTF8.self).debugDescription)")
    if case .complete(let kept, let consumed, let total) = whole {
        require(consumed >= 5 && bytes[(consumed - 2)..<consumed] == [0x0D, 0x0A], "a body that does not end in CRLF")
        require(kept.count <= keep && total <= limit, "kept \(kept.count), total \(total)")
        require(total > UInt64(keep) || kept.count == Int(total), "kept \(kept.count) of \(total)")
        checkSizeLines(bytes[..<consumed])
    }
    roundTrip(bytes)
    return 0
}

private enum Outcome: Equatable {
    case complete(kept: [UInt8], consumed: Int, total: UInt64)
    case needsMore(endOfStream: ChunkedBodyError?)
    case failed(ChunkedBodyError)
}

/// Feeds `bytes` in pieces cut at `splits` (increasing offsets), as reads would deliver them.
private func decode(_ bytes: [UInt8], splits: [Int]) -> Outcome {
    var decoder = ChunkedBodyDecoder(keep: keep, limit: limit)
    var start = 0
    for end in splits + [bytes.count] where end >= start {
        let consumed: Int
        do {
            consumed = try bytes[start..<end].withUnsafeBytes { try decoder.feed($0) }
        } catch let error as ChunkedBodyError {
            return .failed(error)
        } catch {
            fatalError("feed threw \(error)")
        }
        require(consumed <= end - start, "consumed more than fed")
        if decoder.isComplete { return .complete(kept: decoder.kept, consumed: start + consumed, total: decoder.total) }
        require(consumed == end - start, "stopped early without a complete body")
        start = end
    }
    return .needsMore(endOfStream: decoder.errorAtEndOfStream)
}

/// Every size line of an accepted body: hex digits, then nothing or (after spaces or tabs) an
/// extension starting with ";".
private func checkSizeLines(_ body: ArraySlice<UInt8>) {
    var rest = body
    while true {
        let lineEnd = rest.firstIndex(of: 0x0A)!  // an accepted body ends each size line in CRLF
        let line = rest[rest.startIndex..<(lineEnd - 1)]
        let digits = line.prefix { isHexDigit($0) }
        var after = line[digits.endIndex...]
        while let first = after.first, first == 0x20 || first == 0x09 { after = after.dropFirst() }
        require(
            !digits.isEmpty && (after.isEmpty || after.first == UInt8(ascii: ";")),
            "size line \(String(decoding: line, as: UTF8.self).debugDescription) accepted")
        let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)!  // at most 15 digits (it was accepted), hex
        if size == 0 { return }
        rest = rest[(lineEnd + 1 + size + 2)...]
    }
}

private func isHexDigit(_ byte: UInt8) -> Bool {
    (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
}

/// The input's bytes after its first as a payload, chunked at sizes taken from the first byte.
private func roundTrip(_ bytes: [UInt8]) {
    guard let seed = bytes.first else { return }
    let payload = Array(bytes.dropFirst())
    var encoded: [UInt8] = []
    var offset = 0
    var step = Int(seed % 17) + 1
    while offset < payload.count {
        let count = min(step, payload.count - offset)
        encoded += Array((String(count, radix: 16) + (seed & 0x80 != 0 ? ";ext=1" : "") + "\r\n").utf8)
        encoded += payload[offset..<(offset + count)] + [0x0D, 0x0A]
        offset += count
        step = step * 3 % 29 + 1
    }
    encoded += Array(("0\r\n" + (seed & 0x40 != 0 ? "Trailer: x\r\n" : "") + "\r\n").utf8)
    let next = Array("GET / HTTP/1.1\r\n".utf8)
    let outcome = decode(encoded + next, splits: [encoded.count / 2])
    let expected = Outcome.complete(kept: Array(payload.prefix(keep)), consumed: encoded.count, total: UInt64(payload.count))
    require(outcome == expected, "a chunked payload of \(payload.count) bytes does not decode to itself")
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
