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

    /// Seals a plaintext data packet in place of itself: header in the clear (associated data),
    /// frames encrypted, tag appended. Its sequence must be the next one (the connection sends
    /// every packet it numbers, in order). - Returns: nil if OpenSSL failed.
    func seal(_ packet: [UInt8]) -> [UInt8]? {
        let counter = sendCounter
        sendCounter += 1
        var out = Array(packet[..<Packet.dataHeaderSize])
        out.reserveCapacity(packet.count + AEAD.tagSize)
        guard
            sealing.seal(
                nonce: Self.nonce(counter), ad: packet[..<Packet.dataHeaderSize], plaintext: packet[Packet.dataHeaderSize...], into: &out)
        else { return nil }
        return out
    }

    /// The plaintext packet (header and frames) of a sealed one, or nil (and nothing changed)
    /// if its counter was seen or is too old, or it does not authenticate. On success its
    /// counter is recorded in the replay window.
    func open(_ datagram: [UInt8]) -> [UInt8]? {
        // The clear header's sequence, read where the wire format says it is.
        guard datagram.count >= Packet.dataHeaderSize + AEAD.tagSize, let sequence = Packet.dataHeader(of: datagram)?.sequence else {
            return nil
        }
        let counter = expand(sequence)
        guard !replay.isReplay(counter) else { return nil }
        let ad = datagram[..<Packet.dataHeaderSize]
        guard let frames = opening.open(nonce: Self.nonce(counter), ad: ad, sealed: datagram[Packet.dataHeaderSize...]) else { return nil }
        replay.record(counter)
        return Array(ad) + frames
    }

    /// The 64-bit counter nearest the newest opened one whose low 32 bits are `sequence`.
    private func expand(_ sequence: UInt32) -> UInt64 {
        let reference = replay.newest ?? peerStart
        let distance = Int64(sequenceDistance(from: UInt32(truncatingIfNeeded: reference), to: sequence))
        return UInt64(bitPattern: Int64(bitPattern: reference) &+ distance)
    }
}
