import HTTPClient

/// Turns a URL's last path segment or a server's suggested name into a safe file name: no
/// directories (no '/', no '..'), no control characters, not hidden by accident, not empty.
enum FileNaming {
    static func name(for url: HTTPURL) -> String? {
        let segment = url.path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        return safe(percentDecoded(segment) ?? segment)
    }

    /// - Returns: nil when nothing usable is left.
    static func safe(_ proposed: String) -> String? {
        // Only the last component: a server must never choose the directory.
        var name = proposed.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        name = String(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        while name.hasPrefix(".") { name.removeFirst() }  // no ".", "..", or hidden files
        name = name.trimmingCharacters(in: " ")
        if name.utf8.count > 200 { name = String(name.prefix(200)) }
        return name.isEmpty ? nil : name
    }

    private static func percentDecoded(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"),
               let high = iterator.next().flatMap(Self.hex), let low = iterator.next().flatMap(Self.hex) {
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x37
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }
}
