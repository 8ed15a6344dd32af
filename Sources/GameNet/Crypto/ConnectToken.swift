/// A connect token, netcode.io's scheme: a matchmaker the player has logged in to (over HTTPS)
/// makes one per connection and gives it to the client. It carries, in the clear for the client,
/// its client id, the game's protocol id, an expiry (Unix seconds) and two fresh keys
/// (client-to-server, server-to-client); and the same id and keys sealed (ChaCha20-Poly1305)
/// under a key only the matchmaker and the hosts know, with the protocol id and expiry as
/// associated data. The client cannot read or change the sealed part; the host opens it and so
/// learns the keys without ever having talked to the matchmaker.
///
/// ```
/// token       version (1)  protocol id (8)  client id (8)  expires (8)
///             client-to-server key (32)  server-to-client key (32)  sealed (100)   (189 bytes)
/// sealed      nonce (12)  ciphertext of the private part (72)  tag (16)
/// private     client id (8)  client-to-server key (32)  server-to-client key (32)
/// ```
/// This file is the codec alone (no cryptography), so the fuzzer builds it on its own; sealing
/// and opening are in `ConnectToken+Sealing.swift`.
public struct ConnectToken: Sendable, Equatable {
    /// The token format this build writes and reads; any other is refused.
    public static let version: UInt8 = 1
    /// The size of `encoded()`.
    public static let size = 1 + 8 + 8 + 8 + 2 * GameNetKey.size + Packet.sealedTokenSize

    /// The game's protocol id: a host refuses a token made for another.
    public var protocolID: UInt64
    /// The client's id, chosen by the matchmaker; the host reports it with the session.
    public var clientID: UInt64
    /// Unix time (seconds) after which hosts refuse it.
    public var expiresAtUnixSeconds: UInt64
    /// The key of the client's packets to the host (ChaCha20-Poly1305, 32 bytes).
    public var clientToServerKey: GameNetKey
    /// The key of the host's packets to the client.
    public var serverToClientKey: GameNetKey
    /// The private part, sealed for the hosts: `Packet.sealedTokenSize` bytes.
    public var sealed: [UInt8]

    /// The token's bytes, for the matchmaker to send to the client.
    public func encoded() -> [UInt8] {
        var w = WireWriter(capacity: Self.size)
        w.u8(Self.version)
        w.u64(protocolID)
        w.u64(clientID)
        w.u64(expiresAtUnixSeconds)
        w.append(clientToServerKey.bytes)
        w.append(serverToClientKey.bytes)
        w.append(sealed)
        return w.bytes
    }

    /// Reads a token the matchmaker sent. Pure; any thread.
    /// - Throws: `ConnectTokenError.malformed` unless the bytes are exactly one token of this version.
    public static func decode(_ bytes: [UInt8]) throws(ConnectTokenError) -> ConnectToken {
        guard bytes.count == size else { throw .malformed }
        var r = WireReader(bytes)
        guard r.u8() == version, let protocolID = r.u64(), let clientID = r.u64(), let expires = r.u64(),
            let c2s = r.take(GameNetKey.size), let s2c = r.take(GameNetKey.size), let sealed = r.take(Packet.sealedTokenSize)
        else { throw .malformed }
        return ConnectToken(
            protocolID: protocolID, clientID: clientID, expiresAtUnixSeconds: expires, clientToServerKey: GameNetKey(checked: c2s),
            serverToClientKey: GameNetKey(checked: s2c), sealed: sealed)
    }

    /// The associated data of the sealed part: what a host reads in the clear and must trust.
    static func associatedData(protocolID: UInt64, expiresAtUnixSeconds: UInt64) -> [UInt8] {
        var w = WireWriter(capacity: 17)
        w.u8(version)
        w.u64(protocolID)
        w.u64(expiresAtUnixSeconds)
        return w.bytes
    }
}

/// The sealed part of a connect token once a host has opened it.
struct ConnectTokenPrivate: Equatable {
    static let size = 8 + 2 * GameNetKey.size
    var clientID: UInt64
    var clientToServerKey: GameNetKey
    var serverToClientKey: GameNetKey

    func encoded() -> [UInt8] {
        var w = WireWriter(capacity: Self.size)
        w.u64(clientID)
        w.append(clientToServerKey.bytes)
        w.append(serverToClientKey.bytes)
        return w.bytes
    }

    /// - Throws: `ConnectTokenError.malformed` unless exactly one private part.
    static func decode(_ bytes: [UInt8]) throws(ConnectTokenError) -> ConnectTokenPrivate {
        guard bytes.count == size else { throw .malformed }
        var r = WireReader(bytes)
        guard let clientID = r.u64(), let c2s = r.take(GameNetKey.size), let s2c = r.take(GameNetKey.size) else { throw .malformed }
        return ConnectTokenPrivate(
            clientID: clientID, clientToServerKey: GameNetKey(checked: c2s), serverToClientKey: GameNetKey(checked: s2c))
    }
}

/// Why a connect token is refused.
public enum ConnectTokenError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not exactly one token of this version.
    case malformed
    /// Its sealed part does not open under the host's key (forged, changed, or another game's).
    case forged
    /// Past its expiry.
    case expired
    /// Made for another protocol id.
    case wrongProtocol
    /// The key could not be used (OpenSSL failed).
    case cryptoFailure

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .malformed: return "the connect token is not exactly one token of this version"
        case .forged: return "the connect token's sealed part does not open under the host's key"
        case .expired: return "the connect token has expired"
        case .wrongProtocol: return "the connect token was made for another protocol id"
        case .cryptoFailure: return "OpenSSL could not seal or open the connect token"
        }
    }
}
