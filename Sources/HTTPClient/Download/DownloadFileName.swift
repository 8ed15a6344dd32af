// Standard library only: scripts/fuzz.sh compiles this file alone with a libFuzzer target
// (Fuzz/FileNameFuzzer.swift), so it must not import anything or use other files of the module.

/// Turns a name a server chose (a URL's last path segment, a `Content-Disposition` file name)
/// into a name that is safe to create in the download directory, or nil when nothing usable
/// is left. Pure functions: they may be called on any thread.
///
/// The rules, in the order they apply (each step works on Unicode scalars, so that what the
/// file system sees is what was checked):
/// 1. Only the last path component counts: the name is split on `/` and `\` and the last
///    non-empty piece is kept, so a server never chooses the directory.
/// 2. Removed scalars: C0 controls, DEL, C1 controls (U+0080–U+009F), the line and paragraph
///    separators U+2028 and U+2029, and every Default_Ignorable_Code_Point (which holds the
///    bidi controls U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, and also U+00AD,
///    U+034F, U+115F, U+1160, U+17B4, U+17B5, U+180E, U+200B, U+2060–U+2065, U+206A–U+206F,
///    U+3164, U+FEFF, U+FFA0, U+FFF0–U+FFF8, the tag characters U+E0000–U+E007F, ...): they
///    are invisible, so they could make one name look like another (`txt.exe` shown as
///    `exe.txt` with U+202E) or hide a name altogether. Kept, because real text needs them and
///    they do not reorder or hide a name: ZWNJ U+200C and ZWJ U+200D (Indic and Persian
///    scripts, emoji sequences), the variation selectors U+FE00–U+FE0F and U+E0100–U+E01EF,
///    and the Mongolian free variation selectors U+180B–U+180D, U+180F.
/// 3. Leading Unicode whitespace, dots and hyphens are stripped, together, until the name
///    starts with none of them (` .bashrc` and `. .ssh` become `bashrc` and `ssh`): a leading
///    dot hides the file, and a leading `-` would turn the name into an option for any tool
///    that is later given it through a shell wildcard (`rm *`). Trailing whitespace is
///    stripped too. So `.`, `..` and names made only of dots, spaces and hyphens give nil.
/// 4. At most `maxBytes` bytes of UTF-8 (255 by default: NAME_MAX on Linux), cut on a
///    `Character` boundary. When the name is cut, its extension (the text after the last dot,
///    at most ``maxExtensionBytes`` bytes and after a non-empty base) is kept: a 300-byte
///    `aaa...a.tar.gz` ends in `.gz`. A name whose first `Character` alone is too long gives nil.
///
/// The result is never empty, `.` or `..`, has no `/`, `\`, removed scalar, leading dot,
/// hyphen or whitespace, nor trailing whitespace, and cleaning it again returns it unchanged
/// (byte for byte).
public enum DownloadFileName {
    /// Linux's NAME_MAX: the longest file name, in bytes, that the kernel accepts.
    public static let maxBytes = 255
    /// The longest extension (without its dot), in bytes of UTF-8, that survives a cut.
    public static let maxExtensionBytes = 16

    /// A safe name for `proposed`, a name a server suggested, by the rules above.
    /// - Parameters:
    ///   - proposed: the name as the server sent it.
    ///   - maxBytes: the longest result in bytes of UTF-8; a caller that appends a
    ///     suffix to the name (`.part`) passes less than ``maxBytes``.
    /// - Returns: nil when nothing usable is left.
    public static func safe(_ proposed: String, maxBytes: Int = DownloadFileName.maxBytes) -> String? {
        // Split on scalars, not Characters: "/" followed by a combining mark is one Character
        // that is not equal to "/", yet the kernel sees the "/" byte.
        guard let lastComponent = proposed.unicodeScalars.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last else {
            return nil
        }
        var scalars = String.UnicodeScalarView()
        for scalar in lastComponent where !isRemoved(scalar) {
            scalars.append(scalar)
        }
        let kept = scalars[...].drop(while: { isStrippedAtStart($0) })
        let start = kept.startIndex
        var end = kept.endIndex
        while end > start, kept[kept.index(before: end)].properties.isWhitespace {
            end = kept.index(before: end)
        }
        let name = String(String.UnicodeScalarView(kept[start..<end]))
        guard !name.isEmpty else { return nil }
        return truncated(name, maxBytes: maxBytes)
    }

    /// A safe name from a URL's path (without the query): its last `/`-separated segment,
    /// percent-decoded when that gives valid UTF-8 (otherwise the encoded text is kept), then
    /// cleaned by ``safe(_:maxBytes:)``. A path that ends in `/` gives nil.
    public static func name(forURLPath path: String, maxBytes: Int = DownloadFileName.maxBytes) -> String? {
        let segment =
            path.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false).last.map {
                String(String.UnicodeScalarView($0))
            } ?? ""
        return safe(percentDecoded(segment) ?? segment, maxBytes: maxBytes)
    }

    /// `text` with each `%XX` (two hex digits) replaced by its byte; a `%` not followed by two
    /// hex digits stays as it is (`50%.html`).
    /// - Returns: nil when the bytes are not valid UTF-8.
    public static func percentDecoded(_ text: String) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        let input = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count,
                let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// True for a scalar that rule 2 removes.
    public static func isRemoved(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029:
            return true
        case 0x200C, 0x200D, 0xFE00...0xFE0F, 0xE0100...0xE01EF, 0x180B...0x180D, 0x180F:
            return false
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF:
            return true  // listed although Default_Ignorable covers them: they must go whatever the Unicode tables say
        default:
            return scalar.properties.isDefaultIgnorableCodePoint
        }
    }

    private static func isStrippedAtStart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "." || scalar == "-" || scalar.properties.isWhitespace
    }

    /// `name` cut to `maxBytes` on a Character boundary, keeping a short extension.
    private static func truncated(_ name: String, maxBytes: Int) -> String? {
        guard name.utf8.count > maxBytes else { return name }
        if let dot = name.lastIndex(of: "."), dot > name.startIndex {
            let suffix = name[dot...]
            let extensionBytes = suffix.utf8.count - 1
            if extensionBytes > 0, extensionBytes <= maxExtensionBytes, suffix.utf8.count < maxBytes {
                let base = prefix(of: name[..<dot], maxBytes: maxBytes - suffix.utf8.count)
                if !base.isEmpty { return String(base) + suffix }
            }
        }
        // No extension kept: the cut may end in whitespace, which must not end a name.
        var cut = prefix(of: name[...], maxBytes: maxBytes).unicodeScalars[...]
        while let last = cut.last, last.properties.isWhitespace { cut = cut.dropLast() }
        let result = String(String.UnicodeScalarView(cut))
        return result.isEmpty ? nil : result
    }

    /// The longest prefix of `text`, in whole Characters, of at most `maxBytes` bytes of UTF-8.
    private static func prefix(of text: Substring, maxBytes: Int) -> Substring {
        var bytes = 0
        var end = text.startIndex
        for index in text.indices {
            let size = text[index].utf8.count
            if bytes + size > maxBytes { break }
            bytes += size
            end = text.index(after: index)
        }
        return text[..<end]
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x37
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }
}
