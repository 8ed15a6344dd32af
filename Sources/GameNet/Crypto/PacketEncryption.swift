/// Whether and how a host or client encrypts its packets. Both ends must agree: off on both, or
/// one key on both, or tokens (`connectTokens` on the host, `connectToken` on each client).
///
/// When on, every data packet is sealed with ChaCha20-Poly1305 under a per-session key for its
/// direction, derived (HKDF-SHA256) from the base keys and the session's random connection id,
/// token and client id, so no two sessions share a key even when a token or the pre-shared
/// key is reused. The 22-byte header stays in the clear and is the associated data (a changed
/// header bit fails like a changed payload bit); the nonce is the packet's 64-bit send counter
/// (the 32-bit sequence on the wire plus the count of its wraps), never reused under one key.
/// A packet that does not open, or whose counter the replay window has seen, is dropped before
/// anything changes. The host's accept and reject are sealed under a key derived from the base
/// server-to-client key and the client id, with a random nonce. Each packet costs 16 bytes (the tag) and one seal or open.
public enum PacketEncryption: Sendable, Equatable {
    /// Packets in the clear (the session token still guards them against off-path forgery).
    case off
    /// Both ends hold the same key (a LAN game, a test, a dedicated server and its tools).
    case preSharedKey(GameNetKey)
    /// Host: accept only clients with a connect token sealed by `hostKey` (shared with the
    /// matchmaker) for `protocolID`, not expired by the host's `unixTime` clock.
    case connectTokens(hostKey: GameNetKey, protocolID: UInt64)
    /// Client: connect with this token (from the matchmaker).
    case connectToken(ConnectToken)

    var isOn: Bool { self != .off }
    /// Bytes the encryption adds to each data packet.
    var overhead: Int { isOn ? AEAD.tagSize : 0 }
}
