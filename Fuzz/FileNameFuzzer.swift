// libFuzzer entry point for DownloadFileName: any bytes (read as UTF-8, invalid sequences
// replaced) give nil or a name that keeps every rule (FileNameInvariants.swift), both as a
// suggested name and as a URL path, with the default limit and with a small one. Built by
// scripts/fuzz.sh file-name from DownloadFileName.swift alone (no package, no other dependency).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: input, as: UTF8.self)
    checkCleanName(DownloadFileName.safe(text), maxBytes: DownloadFileName.maxBytes, from: text)
    checkCleanName(DownloadFileName.name(forURLPath: text), maxBytes: DownloadFileName.maxBytes, from: text)
    // The first byte also picks a small limit, so that cuts (extension kept or not, whole
    // Characters only) happen on short inputs too.
    if let control = input.first {
        let limit = Int(control % 40) + 1
        let rest = String(decoding: input.dropFirst(), as: UTF8.self)
        checkCleanName(DownloadFileName.safe(rest, maxBytes: limit), maxBytes: limit, from: rest)
        checkCleanName(DownloadFileName.name(forURLPath: rest, maxBytes: limit), maxBytes: limit, from: rest)
    }
    return 0
}
