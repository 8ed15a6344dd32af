/// What a `Range` header asks of a representation of `size` bytes (RFC 9110 §14), limited to
/// what the test server supports: a single byte range.
enum RangeDecision: Equatable {
    /// No usable Range (absent, multi-range, malformed, or overruled by If-Range): 200 full.
    case full
    /// 206 with the inclusive byte range `first...last`.
    case partial(first: UInt64, last: UInt64)
    /// 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    /// Evaluates `Range` against a representation of `size` bytes.
    /// - Parameters:
    ///   - range: the Range field value, if any.
    ///   - ifRange: the If-Range field value, if any.
    ///   - etag: the current entity tag (with quotes); a weak one never matches If-Range.
    ///   - lastModified: the current Last-Modified string; If-Range must equal it exactly.
    static func evaluate(range: String?, ifRange: String?, size: UInt64, etag: String, lastModified: String) -> RangeDecision {
        guard let range else { return .full }
        if let ifRange {
            let strongMatch = !etag.hasPrefix("W/") && ifRange == etag
            guard strongMatch || ifRange == lastModified else { return .full }
        }
        let text = trimmed(Substring(range))
        guard text.hasPrefix("bytes=") else { return .full }
        let spec = trimmed(text.dropFirst("bytes=".count))
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .full }
        let firstText = trimmed(spec[..<dash])
        let lastText = trimmed(spec[spec.index(after: dash)...])
        if firstText.isEmpty {
            // Suffix range: the last n bytes.
            guard let count = decimal(lastText) else { return .full }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .partial(first: size - min(count, size), last: size - 1)
        }
        guard let first = decimal(firstText) else { return .full }
        var last = size == 0 ? 0 : size - 1
        if !lastText.isEmpty {
            guard let requested = decimal(lastText), requested >= first else { return .full }
            last = min(requested, last)
        }
        guard first < size else { return .unsatisfiable }
        return .partial(first: first, last: last)
    }
}

/// A non-empty run of ASCII digits as a UInt64, or nil (also on overflow).
func decimal(_ text: String) -> UInt64? {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return UInt64(text)
}
