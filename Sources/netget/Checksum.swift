import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// A digest netget can check a download against, spelled as aria2 spells it (`sha-256`); the
/// hashing is OpenSSL 3's (libcrypto's EVP digests: SHA-NI and AVX2 code where the CPU has it),
/// not netget's own. Pure values: any thread.
enum DigestAlgorithm: String, CaseIterable, Sendable {
    case sha1 = "sha-1"
    case sha224 = "sha-224"
    case sha256 = "sha-256"
    case sha384 = "sha-384"
    case sha512 = "sha-512"
    case md5

    /// The algorithm for a name as aria2 writes it (`sha-256`, `md5`), also without the dash
    /// (`sha256`, as sha256sum and curl users write it) and in any case; nil for anything else.
    init?(name: String) {
        let wanted = name.lowercased().filter { $0 != "-" }
        guard let found = Self.allCases.first(where: { $0.rawValue.filter { $0 != "-" } == wanted }) else { return nil }
        self = found
    }

    /// Bytes in a digest (twice as many hex digits).
    var digestLength: Int {
        switch self {
        case .sha1: return 20
        case .sha224: return 28
        case .sha256: return 32
        case .sha384: return 48
        case .sha512: return 64
        case .md5: return 16
        }
    }

    /// OpenSSL's method (static storage: never freed).
    fileprivate var method: OpaquePointer? {
        switch self {
        case .sha1: return EVP_sha1()
        case .sha224: return EVP_sha224()
        case .sha256: return EVP_sha256()
        case .sha384: return EVP_sha384()
        case .sha512: return EVP_sha512()
        case .md5: return EVP_md5()
        }
    }

    /// "sha-1, sha-224, sha-256, sha-384, sha-512 or md5", for error messages and --help.
    static var namesForHelp: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    }
}

/// What a download must hash to: an algorithm and the expected digest. Parsed from aria2's
/// `TYPE=HEX` (`--checksum`, and `checksum=` in a URL list) or from `--sha256 HEX`; one type
/// for the single-URL path and the list entries. Any thread.
struct Checksum: Sendable, Equatable, CustomStringConvertible {
    let algorithm: DigestAlgorithm
    let expected: [UInt8]

    /// Parses aria2's `TYPE=HEX` (`sha-256=9f86d0...`; the type in any case, the dash optional).
    /// - Throws: `ChecksumSyntaxError` saying what is wrong: no `=`, an unknown type, a digest
    ///   that is not hexadecimal or has the wrong length for its type. The caller adds which
    ///   option or list line it came from.
    init(parsing text: String) throws(ChecksumSyntaxError) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ChecksumSyntaxError("takes TYPE=HEX, such as sha-256=<64 hex digits>, not \(text.debugDescription)")
        }
        let name = String(text[..<equals])
        guard let algorithm = DigestAlgorithm(name: name) else {
            throw ChecksumSyntaxError("unknown checksum type \(name.debugDescription) (\(DigestAlgorithm.namesForHelp))")
        }
        try self.init(algorithm: algorithm, hex: String(text[text.index(after: equals)...]))
    }

    /// A digest of `algorithm` in hex (either case).
    /// - Throws: `ChecksumSyntaxError` for a non-hex digit or the wrong number of digits.
    init(algorithm: DigestAlgorithm, hex: String) throws(ChecksumSyntaxError) {
        let digits = algorithm.digestLength * 2
        guard hex.lowercased().utf8.allSatisfy({ Self.hexDigit($0) != nil }) else {
            throw ChecksumSyntaxError("a \(algorithm.rawValue) digest is \(digits) hex digits (0-9, a-f), not \(hex.debugDescription)")
        }
        guard hex.utf8.count == digits, let bytes = Self.bytes(fromHex: hex) else {
            throw ChecksumSyntaxError("a \(algorithm.rawValue) digest is \(digits) hex digits, got \(hex.utf8.count)")
        }
        self.algorithm = algorithm
        expected = bytes
    }

    /// `sha-256=<hex>`, as it is written on the command line.
    var description: String { "\(algorithm.rawValue)=\(hex(expected))" }

    /// The bytes of an even number of hex digits (either case), or nil.
    static func bytes(fromHex text: String) -> [UInt8]? {
        let characters = Array(text.lowercased().utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let high = hexDigit(characters[index]), let low = hexDigit(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }
}

/// Why a checksum's text was refused (a usage error once its source is named).
struct ChecksumSyntaxError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A running digest over bytes fed in order (standard output is hashed as it is written).
/// Not thread-safe: one thread at a time (netget: the loop's).
final class RunningDigest {
    let algorithm: DigestAlgorithm
    private let context: OpaquePointer

    /// - Throws: `PartFileError` if OpenSSL cannot make a context (out of memory) or start the digest.
    init(_ algorithm: DigestAlgorithm) throws {
        guard let context = EVP_MD_CTX_new() else { throw PartFileError("OpenSSL could not make a digest context") }
        guard EVP_DigestInit_ex(context, algorithm.method, nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw PartFileError("OpenSSL cannot compute \(algorithm.rawValue) here (is it disabled by the OpenSSL configuration?)")
        }
        self.algorithm = algorithm
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds the next bytes (the caller keeps them; nothing is copied).
    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// The digest of everything fed so far; the digest is over after this.
    func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return Array(digest.prefix(Int(length)))
    }
}

/// Digests of a whole file in one read pass.
enum FileDigest {
    /// Each of `algorithms` over the file at `path` (read once, 1 MiB at a time). Blocks: run it
    /// on a worker thread. A resumed or segmented download is hashed here, from its .part, after
    /// its last byte is written: the bytes a resume kept are hashed like the new ones.
    /// - Throws: `PartFileError` if the file cannot be read or OpenSSL fails.
    static func digests(ofFile path: String, _ algorithms: Set<DigestAlgorithm>) throws -> [DigestAlgorithm: [UInt8]] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PartFileError.system("cannot read \(path)") }
        defer { close(fd) }
        let running = try algorithms.map { try RunningDigest($0) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw PartFileError.system("cannot read \(path)")
            }
            if n == 0 { break }
            for digest in running { digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
        }
        return Dictionary(uniqueKeysWithValues: running.map { ($0.algorithm, $0.finish()) })
    }
}

/// Lower-case hex of `bytes`.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
}
