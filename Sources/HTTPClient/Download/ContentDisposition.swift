// Standard library only: scripts/fuzz.sh compiles this file (with DownloadFileName.swift) and a
// libFuzzer target (Fuzz/ContentDispositionFuzzer.swift), so it must not import anything.

/// A parsed `Content-Disposition` header field value (RFC 6266 §4.1):
/// `disposition-type *( ";" disposition-parm )`, where a parameter is `token "=" value`
/// (`value` = token / quoted-string) and a parameter whose name ends in `*` carries an
/// RFC 8187 ext-value. Pure values and functions: usable on any thread.
///
/// Choices where the RFC leaves room, following the greenbytes test suite (tc2231):
/// - Syntax errors make the whole field invalid (``parse(_:)`` returns nil, so no name is
///   taken from it): a quoted or missing disposition type, a parameter without `=`, an empty
///   parameter (`; ;`), a token with a character outside `tchar` (`foo bar`, `foo,bar`,
///   `foo[1]`, non-ASCII), text after a quoted-string, an unterminated quoted-string, a control
///   character outside a quoted-string's allowed set. One leniency: a single `;` followed only
///   by whitespace at the end is accepted (`attachment; filename="a.pdf";`), as many servers send it.
/// - A parameter name that appears twice (compared case-insensitively) makes the field invalid
///   (tc2231 `attwith2filenames`; RFC 6266 §4.1 says parameter names MUST NOT be repeated):
///   taking either would let a server show one name to one client and another to us.
/// - `filename*` must be a token holding `charset "'" [language] "'" value-chars` with the
///   charset UTF-8 or ISO-8859-1 (case-insensitive) and every `%` followed by two hex digits;
///   its bytes must be valid UTF-8, or, for ISO-8859-1, must not be 0x80–0x9F (no character in
///   ISO/IEC 8859-1). Otherwise (or when it decodes to nothing) it is ignored and `filename`
///   is used (RFC 6266 §4.3: `filename*` wins when both are present and valid).
/// - RFC 2231 continuations (`filename*0=`, `filename*1*=`) are unknown parameters (RFC 6266
///   does not use them) and are ignored, as are all other unknown parameters.
/// - The disposition type does not matter for the name: `inline; filename=...` gives a name.
///
/// The name returned is the server's, unchecked: it may hold `/`, `..` or controls. Pass it
/// through `DownloadFileName.safe(_:maxBytes:)` before it touches a disk.
public struct ContentDisposition: Sendable, Equatable {
    /// One `name=value` parameter.
    public struct Parameter: Sendable, Equatable {
        /// Lower-cased.
        public let name: String
        /// A token as sent, or a quoted-string's content with its escapes undone.
        public let value: String
        /// True when the value was a quoted-string (an ext-value never is).
        public let isQuoted: Bool

        /// A parameter given by hand (tests); `name` is kept as given, not lower-cased.
        public init(name: String, value: String, isQuoted: Bool) {
            self.name = name
            self.value = value
            self.isQuoted = isQuoted
        }
    }

    /// The disposition type, lower-cased (`attachment`, `inline`, or an extension token).
    public let type: String
    /// The parameters in the order sent; no two have the same name.
    public let parameters: [Parameter]

    /// The parameter called `name` (compared case-insensitively), if it was sent.
    public func parameter(_ name: String) -> Parameter? {
        let wanted = name.lowercased()
        return parameters.first(where: { $0.name == wanted })
    }

    /// The suggested file name: the decoded `filename*` when it is valid and not empty, else
    /// `filename`; nil when neither gives a non-empty name.
    public var suggestedFilename: String? {
        if let extended = parameter("filename*"), !extended.isQuoted,
            let decoded = Self.decodeExtValue(extended.value), !decoded.isEmpty
        {
            return decoded
        }
        if let plain = parameter("filename")?.value, !plain.isEmpty { return plain }
        return nil
    }

    /// The file name a `Content-Disposition` field value suggests (see ``suggestedFilename``),
    /// or nil when the field is invalid or names no file. Not yet safe for a disk.
    public static func filename(_ header: String) -> String? {
        parse(header)?.suggestedFilename
    }

    /// Parses a field value by the grammar above.
    /// - Returns: nil for a value that does not follow it (see the type's documentation).
    public static func parse(_ header: String) -> ContentDisposition? {
        var scanner = Scanner(Array(header.unicodeScalars))
        scanner.skipWhitespace()
        guard let type = scanner.token() else { return nil }
        var parameters: [Parameter] = []
        var names = Set<String>()  // a set, not a scan of `parameters`: a field may hold thousands
        while true {
            scanner.skipWhitespace()
            if scanner.atEnd { break }
            guard scanner.take(";") else { return nil }
            scanner.skipWhitespace()
            if scanner.atEnd { break }  // the one trailing ";" tolerated
            guard let name = scanner.token()?.lowercased() else { return nil }
            scanner.skipWhitespace()
            guard scanner.take("=") else { return nil }
            scanner.skipWhitespace()
            let parameter: Parameter
            if scanner.peek == "\"" {
                guard let quoted = scanner.quotedString() else { return nil }
                parameter = Parameter(name: name, value: quoted, isQuoted: true)
            } else {
                guard let token = scanner.token() else { return nil }
                parameter = Parameter(name: name, value: token, isQuoted: false)
            }
            guard names.insert(name).inserted else { return nil }
            parameters.append(parameter)
        }
        return ContentDisposition(type: type.lowercased(), parameters: parameters)
    }

    /// Decodes an RFC 8187 ext-value (`UTF-8''%E2%82%AC%20rates`) in UTF-8 or ISO-8859-1.
    /// - Returns: nil when it is malformed, in another charset, or not valid in its charset.
    public static func decodeExtValue(_ text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard let firstQuote = scalars.firstIndex(of: "'") else { return nil }
        guard let secondQuote = scalars[(firstQuote + 1)...].firstIndex(of: "'") else { return nil }
        let charset = String(String.UnicodeScalarView(scalars[..<firstQuote])).lowercased()
        let language = scalars[(firstQuote + 1)..<secondQuote]
        guard language.allSatisfy({ isASCIILetterOrDigit($0) || $0 == "-" }) else { return nil }
        var bytes: [UInt8] = []
        var index = secondQuote + 1
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "%" {
                guard index + 2 < scalars.count, let high = hexValue(scalars[index + 1]),
                    let low = hexValue(scalars[index + 2])
                else { return nil }
                bytes.append(high << 4 | low)
                index += 3
            } else {
                guard isAttrChar(scalar) else { return nil }
                bytes.append(UInt8(scalar.value))
                index += 1
            }
        }
        switch charset {
        case "utf-8":
            return String(validating: bytes, as: UTF8.self)
        case "iso-8859-1":
            // ISO-8859-1's bytes are U+0000–U+00FF, but 0x80–0x9F are no character in ISO/IEC 8859-1.
            guard !bytes.contains(where: { (0x80...0x9F).contains($0) }) else { return nil }
            var decoded = String.UnicodeScalarView()
            for byte in bytes { decoded.append(Unicode.Scalar(byte)) }
            return String(decoded)
        default:
            return nil
        }
    }

    // RFC 9110 §5.6.2 tchar.
    static func isTokenChar(_ scalar: Unicode.Scalar) -> Bool {
        if isASCIILetterOrDigit(scalar) { return true }
        switch scalar {
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~": return true
        default: return false
        }
    }

    // RFC 8187 §3.2.1 attr-char.
    private static func isAttrChar(_ scalar: Unicode.Scalar) -> Bool {
        if isASCIILetterOrDigit(scalar) { return true }
        switch scalar {
        case "!", "#", "$", "&", "+", "-", ".", "^", "_", "`", "|", "~": return true
        default: return false
        }
    }

    private static func isASCIILetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return false
        }
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt8? {
        switch scalar.value {
        case 0x30...0x39: return UInt8(scalar.value - 0x30)
        case 0x41...0x46: return UInt8(scalar.value - 0x37)
        case 0x61...0x66: return UInt8(scalar.value - 0x57)
        default: return nil
        }
    }

    /// Reads the field value one scalar at a time; never reads past the end.
    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var position = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { position >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[position] }

        mutating func take(_ scalar: Unicode.Scalar) -> Bool {
            guard peek == scalar else { return false }
            position += 1
            return true
        }

        /// OWS: spaces and horizontal tabs.
        mutating func skipWhitespace() {
            while let scalar = peek, scalar == " " || scalar == "\t" { position += 1 }
        }

        /// `1*tchar`, or nil (nothing consumed) when the next scalar is not a tchar.
        mutating func token() -> String? {
            let start = position
            while let scalar = peek, ContentDisposition.isTokenChar(scalar) { position += 1 }
            guard position > start else { return nil }
            return String(String.UnicodeScalarView(scalars[start..<position]))
        }

        /// A quoted-string (RFC 9110 §5.6.4) starting at `"`, unescaped; nil when it is not
        /// terminated or holds a control character other than HTAB.
        mutating func quotedString() -> String? {
            guard take("\"") else { return nil }
            var value = String.UnicodeScalarView()
            while let scalar = peek {
                position += 1
                switch scalar {
                case "\"":
                    return String(value)
                case "\\":
                    guard let escaped = peek, Self.isQuotedText(escaped) || escaped == "\"" || escaped == "\\" else {
                        return nil
                    }
                    position += 1
                    value.append(escaped)
                default:
                    guard Self.isQuotedText(scalar) else { return nil }
                    value.append(scalar)
                }
            }
            return nil
        }

        /// qdtext, plus the characters a quoted-pair may escape: HTAB, SP, VCHAR and obs-text
        /// (any non-ASCII scalar, as the field was decoded from bytes to text before us).
        private static func isQuotedText(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\t" || (scalar.value >= 0x20 && scalar.value != 0x7F)
        }
    }
}
