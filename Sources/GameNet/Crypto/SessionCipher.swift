/// One session's packet encryption: a sealing key for this side's direction and an opening key
/// for the peer's, the 64-bit send counter that is every packet's nonce, and the replay window.
/// See `PacketEncryption` for the scheme. Not thread-safe: its `Connection` owns it.
final class SessionCipher {
    private let sealing: AEAD
    private let opening: AEAD
    /// The next packet's counter: its low 32 bits are the packet sequence on the wire. It starts
    /// at 2^32 plus the initial sequence, so expanding a received sequence never goes below 0.
    private var sendCounter: UInt64
    private var replay = ReplayWindow()
    /// Where expansion starts before the first packet opens: the peer's first counter less one.
    private let peerStart: UInt64

    /// The keys of one session, derived from the base keys of the token or the pre-shared key.
    struct Keys {
        var clientToServer: GameNetKey
        var serverToClient: GameNetKey

        /// HKDF-SHA256 per direction, salted with the session's connection id, token and
        /// client id (fresh random values from the host for every session).
        static func derive(clientToServer: GameNetKey, serverToClient: GameNetKey, connectionID: UInt64, token: UInt64, clientID: UInt64)
            -> Keys?
        {
            var salt = WireWriter(capacity: 24)
            salt.u64(connectionID)
            salt.u64(token)
            salt.u64(clientID)
            guard let c2s = AEAD.deriveKey(from: clientToServer, salt: salt.bytes, info: Array("GameNet 1 client to server".utf8)),
                let s2c = AEAD.deriveKey(from: serverToClient, salt: salt.bytes, info: Array("GameNet 1 server to client".utf8))
            else { return nil }
            return Keys(clientToServer: c2s, serverToClient: s2c)
        }
    }

    /// The key of the host's sealed accept or reject for `clientID`: derived from the base
    /// server-to-client key, so that key itself only ever feeds HKDF (one key, one use).
    static func replyKey(serverToClient: GameNetKey, clientID: UInt64) -> GameNetKey? {
        var salt = WireWriter(capacity: 8)
        salt.u64(clientID)
        return AEAD.deriveKey(from: serverToClient, salt: salt.bytes, info: Array("GameNet 1 handshake reply".utf8))
    }

    init?(sealingKey: GameNetKey, openingKey: GameNetKey, initialSequence: UInt32, peerInitialSequence: UInt32) {
        guard let sealing = AEAD(key: sealingKey), let opening = AEAD(key: openingKey) else { return nil }
        self.sealing = sealing
        self.opening = opening
        sendCounter = 1 << 32 | UInt64(initialSequence)
        peerStart = (1 << 32 | UInt64(peerInitialSequence)) - 1
    }

    private static func nonce(_ counter: UInt64) -> [UInt8] {
        var w = WireWriter(capacity: AEAD.nonceSize)
        w.u32(0)
        w.u64(counter)
        return w.bytes
    }

    /// Seals a plaintext data packet in place of itself: its header (`headerSize` bytes) in the
    /// clear as associated data, frames encrypted, tag appended. Its sequence must be the next
    /// one (the connection sends every packet it numbers, in order).
    /// - Returns: nil if OpenSSL failed.
    func seal(_ packet: [UInt8], headerSize: Int) -> [UInt8]? {
        let counter = sendCounter
        sendCounter += 1
        var out = Array(packet[..<headerSize])
        out.reserveCapacity(packet.count + AEAD.tagSize)
        guard sealing.seal(nonce: Self.nonce(counter), ad: packet[..<headerSize], plaintext: packet[headerSize...], into: &out) else {
            return nil
        }
        return out
    }

    /// The plaintext packet (header and frames) of a sealed one, or nil (and nothing changed)
    /// if its counter was seen or is too old, or it does not authenticate. On success its
    /// counter is recorded in the replay window.
    /// - Parameters:
    ///   - sequence: the packet's 32-bit sequence, which the connection expanded from the
    ///     clear header's (so both agree on it); its nonce is the 64-bit counter it ends.
    ///   - headerSize: the clear header's size, the associated data.
    func open(_ datagram: [UInt8], sequence: UInt32, headerSize: Int) -> [UInt8]? {
        guard datagram.count >= headerSize + AEAD.tagSize else { return nil }
        let counter = expandSequence(UInt64(sequence), bits: 32, near: replay.newest ?? peerStart)
        guard !replay.isReplay(counter) else { return nil }
        let ad = datagram[..<headerSize]
        guard let frames = opening.open(nonce: Self.nonce(counter), ad: ad, sealed: datagram[headerSize...]) else { return nil }
        replay.record(counter)
        return Array(ad) + frames
    }
}
