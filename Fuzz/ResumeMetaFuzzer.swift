// libFuzzer entry point for netget's PATH.part.meta decoder (Sources/netget/ResumeMeta.swift):
// any bytes give a meta or a typed refusal, never a crash; a meta that is accepted keeps every
// rule the resume relies on, and encoding it gives back the very same bytes. Built by
// scripts/fuzz.sh resume-meta from ResumeMeta.swift alone (no package, no other dependency).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // As given: mostly refused by the checksum, which is the point (a torn file).
    check(input)
    // With a correct checksum line added, so that the fuzzer reaches the field rules too.
    var body = input
    if body.last != 0x0A { body.append(0x0A) }
    check(body + Array("end \(ResumeMeta.hex(ResumeMeta.fnv1a64(body)))\n".utf8))
    return 0
}

private func check(_ bytes: [UInt8]) {
    let meta: ResumeMeta
    do {
        meta = try ResumeMeta.decode(bytes)
    } catch {
        return  // a typed refusal is a right answer
    }
    precondition(!meta.url.isEmpty, "accepted a meta without a URL")
    var previousEnd: UInt64 = 0
    for (index, range) in meta.missing.enumerated() {
        precondition(range.first >= previousEnd, "missing ranges overlap or are out of order")
        if let last = range.last {
            precondition(last >= range.first, "a missing range ends before it starts")
            if let length = meta.length { precondition(last < length, "a missing range ends past the length") }
            previousEnd = last + 1
        } else {
            precondition(index == meta.missing.count - 1, "an open range before the last")
        }
    }
    if let length = meta.length {
        precondition(meta.storedExtent <= length, "more stored than the resource has")
    } else {
        precondition(meta.missing.count == 1 && meta.missing[0].last == nil, "unknown length needs one open range")
    }
    // Canonical: what is accepted re-encodes to the same bytes and decodes to the same meta.
    let again = meta.encoded()
    precondition(again == bytes, "the meta does not encode back to its own bytes")
    precondition((try? ResumeMeta.decode(again)) == meta, "the re-encoded meta does not decode to itself")
}
