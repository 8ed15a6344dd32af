// PATH.part.meta: what `netget -c` needs to continue a download, and nothing it must trust
// blindly. Self-contained (standard library only) so that a fuzz target compiles it alone
// (Fuzz/ResumeMetaFuzzer.swift).

/// The resume state of one `.part` file, as stored beside it.
///
/// The file is text, one field a line, and ends with a checksum of every byte before it:
///
///     netget-resume 2
///     url http://example.org/big.iso
///     etag "abc"
///     last-modified Sat, 01 Jan 2022 00:00:00 GMT
///     length 1073741824
///     missing 1048576-2097151
///     missing 3145728-
///     end 9c3a51e0f4d2b7a8
///
/// `missing` lists the byte ranges (inclusive; an empty end: to the end of the resource) that
/// are NOT on disk; every other byte below `length` is, and was flushed (fdatasync) before
/// this file was written. A torn or edited file fails the checksum and is refused whole.
struct ResumeMeta: Equatable {
    /// A byte range still to fetch.
    struct Missing: Equatable {
        var first: UInt64
        /// The last byte (inclusive); nil: to the end of the resource.
        var last: UInt64?
    }

    var url: String
    var etag: String?
    var lastModified: String?
    /// The resource's complete length, when known.
    var length: UInt64?
    var missing: [Missing]

    static let header = "netget-resume 2"
    /// A meta file larger than this is not one netget wrote.
    static let maxBytes = 1 << 20
    /// More missing ranges than any download makes (-x is at most 64).
    static let maxMissing = 4096

    /// One past the highest byte that is on disk: the `.part` must be at least this long.
    var storedExtent: UInt64 {
        guard let length else {
            // Unknown length: one open range, everything before it is stored.
            return missing.first?.first ?? 0
        }
        // The highest stored byte lies just below the last missing range, or at the end.
        var extent = length
        for range in missing.sorted(by: { $0.first > $1.first }) {
            let rangeEnd = range.last.map { $0 + 1 } ?? length
            if rangeEnd >= extent { extent = min(extent, range.first) } else { break }
        }
        return extent
    }

    /// The file's bytes, checksum line included.
    func encoded() -> [UInt8] {
        var text = Self.header + "\n"
        text += "url \(url)\n"
        if let etag { text += "etag \(etag)\n" }
        if let lastModified { text += "last-modified \(lastModified)\n" }
        if let length { text += "length \(length)\n" }
        for range in missing { text += "missing \(range.first)-\(range.last.map(String.init) ?? "")\n" }
        var bytes = Array(text.utf8)
        bytes += Array("end \(Self.hex(Self.fnv1a64(bytes)))\n".utf8)
        return bytes
    }

    /// Parses and checks a meta file.
    /// - Throws: `ResumeMetaError` saying what is wrong (torn, edited, or not netget's).
    static func decode(_ bytes: [UInt8]) throws(ResumeMetaError) -> ResumeMeta {
        guard bytes.count <= maxBytes else { throw ResumeMetaError("larger than \(maxBytes) bytes") }
        // The checksum line: the last line, over every byte before it.
        guard bytes.last == 0x0A else { throw ResumeMetaError("torn: no final newline") }
        let body = bytes.dropLast()
        let lastLineStart = body.lastIndex(of: 0x0A).map { $0 + 1 } ?? body.startIndex
        let endLine = body[lastLineStart...]
        let covered = bytes[..<lastLineStart]
        guard endLine.starts(with: Array("end ".utf8)) else { throw ResumeMetaError("torn: no end line") }
        let sum = String(decoding: endLine.dropFirst(4), as: UTF8.self)
        guard sum == hex(fnv1a64(covered)) else { throw ResumeMetaError("torn or edited: the checksum does not match") }

        guard let text = String(validating: covered, as: UTF8.self) else { throw ResumeMetaError("not UTF-8") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == Substring(header) else { throw ResumeMetaError("not a version 2 netget meta file") }
        var url: String?
        var meta = ResumeMeta(url: "", etag: nil, lastModified: nil, length: nil, missing: [])
        // The fields in the order netget writes them, each once (missing: any number, last):
        // one spelling per state, so nothing can hide in a second copy of a field.
        let order: [Substring: Int] = ["url": 0, "etag": 1, "last-modified": 2, "length": 3, "missing": 4]
        var lastRank = -1
        for line in lines.dropFirst() {
            guard let space = line.firstIndex(of: " ") else { throw ResumeMetaError("a line without a value") }
            let key = line[..<space]
            let value = String(line[line.index(after: space)...])
            guard let rank = order[key] else { throw ResumeMetaError("unknown field \(String(key).debugDescription)") }
            guard rank > lastRank || (rank == 4 && lastRank == 4) else { throw ResumeMetaError("fields repeated or out of order") }
            lastRank = rank
            switch key {
            case "url":
                guard url == nil, !value.isEmpty else { throw ResumeMetaError("url twice or empty") }
                url = value
            case "etag":
                guard meta.etag == nil else { throw ResumeMetaError("etag twice") }
                meta.etag = value
            case "last-modified":
                guard meta.lastModified == nil else { throw ResumeMetaError("last-modified twice") }
                meta.lastModified = value
            case "length":
                guard meta.length == nil, let length = decimal(value) else { throw ResumeMetaError("bad length") }
                meta.length = length
            case "missing":
                guard meta.missing.count < maxMissing else { throw ResumeMetaError("too many missing ranges") }
                meta.missing.append(try missingRange(value))
            default:
                throw ResumeMetaError("unknown field \(String(key).debugDescription)")
            }
        }
        guard let url else { throw ResumeMetaError("no url") }
        meta.url = url
        try meta.checkRanges()
        return meta
    }

    /// Ranges in order, apart, inside the length; only the last may be open.
    private func checkRanges() throws(ResumeMetaError) {
        var previousEnd: UInt64?  // one past the previous range
        for (index, range) in missing.enumerated() {
            if let previousEnd, range.first < previousEnd { throw ResumeMetaError("missing ranges overlap or are out of order") }
            if let last = range.last {
                guard last >= range.first else { throw ResumeMetaError("a missing range ends before it starts") }
                if let length, last >= length { throw ResumeMetaError("a missing range ends past the length") }
                guard last < UInt64.max else { throw ResumeMetaError("a missing range ends at the largest offset") }
                previousEnd = last + 1
            } else {
                guard index == missing.count - 1 else { throw ResumeMetaError("an open missing range before the last") }
                if let length, range.first > length { throw ResumeMetaError("a missing range starts past the length") }
            }
        }
        if length == nil && missing.count != 1 {
            throw ResumeMetaError("without a length, exactly one missing range")
        }
        if length == nil, let only = missing.first, only.last != nil {
            throw ResumeMetaError("without a length, the missing range must be open")
        }
    }

    private static func missingRange(_ value: String) throws(ResumeMetaError) -> Missing {
        let bounds = value.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = decimal(String(bounds[0])) else { throw ResumeMetaError("bad missing range") }
        if bounds[1].isEmpty { return Missing(first: first, last: nil) }
        guard let last = decimal(String(bounds[1])) else { throw ResumeMetaError("bad missing range") }
        return Missing(first: first, last: last)
    }

    /// Digits only, no sign, no leading zero (one spelling per number: netget wrote it), no overflow.
    private static func decimal(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if text.utf8.count > 1 && text.utf8.first == 0x30 { return nil }
        return UInt64(text)
    }

    /// FNV-1a, 64 bits: enough to tell a torn or hand-edited file (this is no defence against
    /// an attacker who can write the file: such a one can write the .part too).
    static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Why a meta file was refused.
struct ResumeMetaError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
