import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// SHA-256 of a file, with OpenSSL's EVP digest (SHA-NI where the CPU has it). Blocks: run it
/// on a worker thread.
enum SHA256 {
    /// - Throws: `PartFileError` if the file cannot be read.
    static func digest(ofFile path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PartFileError.system("cannot read \(path)") }
        defer { close(fd) }
        guard let context = EVP_MD_CTX_new() else { throw PartFileError("OpenSSL could not make a digest context") }
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw PartFileError.system("cannot read \(path)")
            }
            if n == 0 { break }
            EVP_DigestUpdate(context, buffer.baseAddress, n)
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
