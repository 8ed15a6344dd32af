/// The file name in a `Content-Disposition` header (RFC 6266): `filename*=UTF-8''...`
/// (percent-decoded) wins over `filename="..."`. The caller must still make it safe for a disk.
enum ContentDisposition {
    static func filename(_ value: String) -> String? {
        var plain: String?
        var extended: String?
        for part in value.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \t") }
            guard pair.count == 2 else { continue }
            switch pair[0].lowercased() {
            case "filename":
                var name = pair[1]
                if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                    name = String(name.dropFirst().dropLast()).replacing("\\\"", with: "\"")
                }
                plain = name
            case "filename*":
                let pieces = pair[1].split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if pieces.count == 3, pieces[0].lowercased() == "utf-8" { extended = percentDecoded(String(pieces[2])) }
            default:
                continue
            }
        }
        return (extended ?? plain).flatMap { $0.isEmpty ? nil : $0 }
    }

    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
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
