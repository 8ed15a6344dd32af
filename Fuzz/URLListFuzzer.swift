// libFuzzer target for netget's URL list parser (Sources/netget/URLList.swift with Checksum.swift,
// compiled alone): a list read from a file or standard input either parses or throws
// UsageError naming a line, never crashes or hangs; every entry it gives has a URL with no space
// or tab, a line number within the text, and an out=/dir= only if one was written.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzURLList(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
    let entries: [URLListEntry]
    do {
        entries = try URLList.parse(text, source: "-i fuzz")
    } catch let error as UsageError {
        guard error.description.hasPrefix("-i fuzz line ") else { fatalError("an error that names no line: \(error)") }
        return 0
    } catch {
        fatalError("not a UsageError: \(error)")
    }
    var previousLine = 0
    for entry in entries {
        guard !entry.url.isEmpty, !entry.url.contains(" "), !entry.url.contains("\t") else {
            fatalError("bad URL \(entry.url.debugDescription)")
        }
        guard entry.line > previousLine, entry.line <= lineCount else { fatalError("line \(entry.line) of \(lineCount)") }
        guard (entry.out == nil && entry.dir == nil) == (entry.placement == nil) else { fatalError("placement without out=/dir=") }
        previousLine = entry.line
    }
    return 0
}

/// netget's usage error (Sources/netget/Plan.swift, which this target does not compile).
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// netget's file error (Sources/netget/PartFile.swift, not compiled here): what Checksum.swift's
/// digest code throws, never reached by the list parser.
struct PartFileError: Error {
    let message: String
    init(_ message: String) { self.message = message }
    static func system(_ message: String) -> PartFileError { PartFileError(message) }
}
