extension ConnectToken {
    /// Makes a token for `clientID` (the matchmaker's job): two fresh random keys, sealed with
    /// the id under `hostKey` with a random nonce. Cost: one seal; any thread.
    /// - Parameter expiresAtUnixSeconds: after this Unix time hosts refuse it (netcode.io uses
    ///   tens of seconds: long enough to connect, too short to pass on).
    /// - Parameter clientID: the client's id; the host reports it with the session.
    /// - Parameter hostKey: the key the matchmaker shares with the hosts, which seals the private part.
    /// - Parameter protocolID: the game's protocol id; a host of another protocol refuses the token.
    /// - Parameter random: where the two session keys and the nonce come from.
    /// - Throws: `ConnectTokenError.cryptoFailure` if OpenSSL fails.
    public static func make(
        clientID: UInt64, protocolID: UInt64, expiresAtUnixSeconds: UInt64, hostKey: GameNetKey,
        random: inout some RandomNumberGenerator
    ) throws(ConnectTokenError) -> ConnectToken {
        let keys = ConnectTokenPrivate(
            clientID: clientID, clientToServerKey: .random(using: &random), serverToClientKey: .random(using: &random))
        var sealed = randomNonce(&random)
        let ad = associatedData(protocolID: protocolID, expiresAtUnixSeconds: expiresAtUnixSeconds)
        guard let aead = AEAD(key: hostKey), aead.seal(nonce: sealed, ad: ad[...], plaintext: keys.encoded()[...], into: &sealed) else {
            throw .cryptoFailure
        }
        return ConnectToken(
            protocolID: protocolID, clientID: clientID, expiresAtUnixSeconds: expiresAtUnixSeconds,
            clientToServerKey: keys.clientToServerKey, serverToClientKey: keys.serverToClientKey, sealed: sealed)
    }

    /// `make(clientID:protocolID:expiresAtUnixSeconds:hostKey:random:)` with the system's
    /// generator (getrandom(2)) for the keys and the nonce.
    public static func make(clientID: UInt64, protocolID: UInt64, expiresAtUnixSeconds: UInt64, hostKey: GameNetKey)
        throws(ConnectTokenError) -> ConnectToken
    {
        var system = SystemRandomNumberGenerator()
        return try make(
            clientID: clientID, protocolID: protocolID, expiresAtUnixSeconds: expiresAtUnixSeconds, hostKey: hostKey, random: &system)
    }

    /// The host's side: opens a sealed part that came in a connect request, checking the
    /// protocol id, the expiry against `nowUnixSeconds` and that it names `clientID`.
    /// - Throws: `ConnectTokenError` (`.forged` for anything that does not open or disagrees).
    static func open(
        sealed: [UInt8], clientID: UInt64, protocolID: UInt64, expiresAtUnixSeconds: UInt64, expectedProtocolID: UInt64,
        nowUnixSeconds: UInt64, hostKey: AEAD
    ) throws(ConnectTokenError) -> ConnectTokenPrivate {
        guard protocolID == expectedProtocolID else { throw .wrongProtocol }
        guard expiresAtUnixSeconds > nowUnixSeconds else { throw .expired }
        guard sealed.count == Packet.sealedTokenSize else { throw .malformed }
        let ad = associatedData(protocolID: protocolID, expiresAtUnixSeconds: expiresAtUnixSeconds)
        guard let plain = hostKey.open(nonce: Array(sealed[..<AEAD.nonceSize]), ad: ad[...], sealed: sealed[AEAD.nonceSize...]) else {
            throw .forged
        }
        let keys = try ConnectTokenPrivate.decode(plain)
        guard keys.clientID == clientID else { throw .forged }
        return keys
    }
}

/// A random 96-bit nonce (for the few packets sealed under a long-lived key: tokens, accepts).
func randomNonce(_ random: inout some RandomNumberGenerator) -> [UInt8] { nonce(random.next(), random.next()) }

/// A 96-bit nonce from two random words.
func nonce(_ first: UInt64, _ second: UInt64) -> [UInt8] {
    var nonce: [UInt8] = []
    withUnsafeBytes(of: first) { nonce += $0 }
    withUnsafeBytes(of: UInt32(truncatingIfNeeded: second)) { nonce += $0 }
    return nonce
}
