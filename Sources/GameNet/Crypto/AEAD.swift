import COpenSSL

/// ChaCha20-Poly1305 (RFC 8439) under one key through OpenSSL 3's EVP interface: seal and open
/// with a 96-bit nonce and associated data, a 16-byte tag. The key schedule is done once (one
/// cipher context per direction of use); each call only sets the nonce. ChaCha20-Poly1305, not
/// AES-GCM: constant time without AES-NI, and as fast as GCM on the x86 and ARM servers games
/// run on. Not thread-safe (the contexts are reused): one owner.
final class AEAD {
    static let tagSize = 16
    static let nonceSize = 12

    private let sealer: OpaquePointer
    private let opener: OpaquePointer

    /// - Returns: nil if OpenSSL cannot make the contexts (out of memory).
    init?(key: GameNetKey) {
        guard let sealer = EVP_CIPHER_CTX_new() else { return nil }
        guard let opener = EVP_CIPHER_CTX_new() else {
            EVP_CIPHER_CTX_free(sealer)
            return nil
        }
        self.sealer = sealer
        self.opener = opener
        let ok = key.bytes.withUnsafeBufferPointer { k in
            EVP_EncryptInit_ex2(sealer, EVP_chacha20_poly1305(), k.baseAddress, nil, nil) == 1
                && EVP_DecryptInit_ex2(opener, EVP_chacha20_poly1305(), k.baseAddress, nil, nil) == 1
        }
        guard ok else { return nil }
    }

    deinit {
        EVP_CIPHER_CTX_free(sealer)
        EVP_CIPHER_CTX_free(opener)
    }

    /// Appends to `out` the ciphertext of `plaintext` and the tag over it and `ad`.
    /// - Returns: false if OpenSSL failed (nothing useful was appended).
    func seal(nonce: [UInt8], ad: ArraySlice<UInt8>, plaintext: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        let start = out.count
        out += repeatElement(0, count: plaintext.count + Self.tagSize)
        var length: Int32 = 0
        let ok = out.withUnsafeMutableBufferPointer { o -> Bool in
            let body = o.baseAddress! + start  // non-nil: `out` holds at least the tag
            guard nonce.withUnsafeBufferPointer({ EVP_EncryptInit_ex2(sealer, nil, nil, $0.baseAddress, nil) }) == 1 else { return false }
            if !ad.isEmpty {
                guard ad.withUnsafeBufferPointer({ EVP_EncryptUpdate(sealer, nil, &length, $0.baseAddress, Int32($0.count)) }) == 1
                else { return false }
            }
            if !plaintext.isEmpty {
                guard plaintext.withUnsafeBufferPointer({ EVP_EncryptUpdate(sealer, body, &length, $0.baseAddress, Int32($0.count)) }) == 1
                else { return false }
            }
            guard EVP_EncryptFinal_ex(sealer, body + plaintext.count, &length) == 1 else { return false }
            return EVP_CIPHER_CTX_ctrl(sealer, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagSize), body + plaintext.count) == 1
        }
        return ok
    }

    /// The plaintext of `sealed` (ciphertext then tag), or nil if the tag does not verify
    /// over it and `ad` (a changed bit anywhere, the wrong key or nonce) or OpenSSL failed.
    func open(nonce: [UInt8], ad: ArraySlice<UInt8>, sealed: ArraySlice<UInt8>) -> [UInt8]? {
        guard sealed.count >= Self.tagSize else { return nil }
        let textCount = sealed.count - Self.tagSize
        var plain = [UInt8](repeating: 0, count: textCount + 1)  // one spare: never an empty buffer
        var length: Int32 = 0
        let ok = plain.withUnsafeMutableBufferPointer { p -> Bool in
            guard nonce.withUnsafeBufferPointer({ EVP_DecryptInit_ex2(opener, nil, nil, $0.baseAddress, nil) }) == 1 else { return false }
            if !ad.isEmpty {
                guard ad.withUnsafeBufferPointer({ EVP_DecryptUpdate(opener, nil, &length, $0.baseAddress, Int32($0.count)) }) == 1
                else { return false }
            }
            return sealed.withUnsafeBufferPointer { s -> Bool in
                // `sealed` holds at least the tag, so its base address is not nil.
                let base = s.baseAddress!
                if textCount > 0 {
                    guard EVP_DecryptUpdate(opener, p.baseAddress, &length, base, Int32(textCount)) == 1 else { return false }
                }
                let tag = UnsafeMutableRawPointer(mutating: base + textCount)
                guard EVP_CIPHER_CTX_ctrl(opener, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagSize), tag) == 1 else { return false }
                return EVP_DecryptFinal_ex(opener, p.baseAddress! + textCount, &length) == 1
            }
        }
        guard ok else { return nil }
        plain.removeLast()
        return plain
    }

    /// HKDF-SHA256 (RFC 5869) for one 32-byte output: extract with `salt`, expand with `info`.
    static func deriveKey(from key: GameNetKey, salt: [UInt8], info: [UInt8]) -> GameNetKey? {
        guard let prk = hmacSHA256(key: salt, data: key.bytes), let okm = hmacSHA256(key: prk, data: info + [1]) else { return nil }
        return GameNetKey(bytes: okm)
    }

    private static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let done = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress, d.count, o.baseAddress, &length)
                }
            }
        }
        return done == nil || length != 32 ? nil : out
    }
}
