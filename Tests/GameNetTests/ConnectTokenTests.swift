import NetCore
import Testing

@testable import GameNet

/// Connect tokens (netcode.io's scheme): a matchmaker seals the client's id and keys under a
/// key it shares with the hosts; a host admits only a client with a valid, unexpired token
/// for its protocol, and the session is encrypted with keys from it.
@Suite struct ConnectTokenTests {
    static let hostKey = GameNetKey(bytes: Array(repeating: 0x42, count: 32))!  // 32 bytes: never nil
    static let protocolID: UInt64 = 0x6A6D_6531
    static let now: UInt64 = 1_800_000_000

    /// The client's first packet sequence (known, so a test can rebuild a packet's nonce).
    static let clientInitialSequence: UInt32 = 0x0001_0000

    static func network(seed: UInt64, token: ConnectToken, hostKey: GameNetKey = hostKey) throws -> (SimulatedNetwork, Client) {
        var hostConfig = GameNetConfig()
        hostConfig.encryption = .connectTokens(hostKey: hostKey, protocolID: protocolID)
        var clientConfig = GameNetConfig()
        clientConfig.encryption = .connectToken(token)
        let net = try SimulatedNetwork(seed: seed, config: hostConfig, clientConfig: clientConfig)
        net.host.unixTime = { now }
        let client = try net.addClient(port: 7800, initialSequence: clientInitialSequence)
        return (net, client)
    }

    static func token(expires: UInt64 = now + 30, protocolID: UInt64 = protocolID, key: GameNetKey = hostKey) throws -> ConnectToken {
        var random = SeededRandom(seed: expires ^ protocolID)
        return try ConnectToken.make(clientID: 77, protocolID: protocolID, expiresAtUnixSeconds: expires, hostKey: key, random: &random)
    }

    @Test func aValidTokenConnectsAndItsSessionIsEncrypted() throws {
        let token = try Self.token()
        let (net, client) = try Self.network(seed: 110, token: token)
        var replies: [Int] = []
        var requests: [Int] = []
        net.drop = { bytes in
            if [2, 9].contains(bytes[0] & 0x0F) { replies.append(bytes.count) }  // challenge, sealed accept
            if [7, 8].contains(bytes[0] & 0x0F) { requests.append(bytes.count) }  // the token response (the request went already)
            return false
        }
        #expect(net.run(forNs: 2_000_000_000) { net.hostConnectedCount == 1 && client.isConnected })
        // No amplification: every reply is far smaller than the padded request it answers.
        #expect(replies.count >= 2 && replies.allSatisfy { $0 <= 66 } && requests.allSatisfy { $0 == 1_200 }, "\(replies) \(requests)")
        net.drop = nil
        try client.send([5, 6, 7], channel: 0)
        #expect(net.run(forNs: 1_000_000_000) { net.messages(net.hostEvents, channel: 0) == [[5, 6, 7]] })
        #expect(net.host.refusedTokens == 0)
        // The session's keys are derived per session: the token's own keys do not open its packets.
        let datagram = try EncryptionTests.capture(net, client, sending: [8])
        let raw = try #require(AEAD(key: token.clientToServerKey))
        // The nonce the sender used: 32 zero bits, then the counter 2^32 + sequence.
        let header = try #require(Packet.dataHeader(of: datagram))
        let sequence = expandSequence(header.sequence, bits: header.sequenceBits, near: Self.clientInitialSequence)
        var nonce: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]
        nonce += withUnsafeBytes(of: sequence.bigEndian) { Array($0) }
        #expect(raw.open(nonce: nonce, ad: datagram[..<header.encodedSize], sealed: datagram[header.encodedSize...]) == nil)
    }

    @Test func anExpiredTokenIsRefused() throws {
        let (net, client) = try Self.network(seed: 111, token: try Self.token(expires: Self.now))
        _ = net.run(forNs: 6_000_000_000)
        #expect(!client.isConnected && net.host.connectionCount == 0 && net.host.refusedTokens > 0)
        #expect(net.clientEvents[.loopbackIPv4(port: 7800)]?.last == .disconnected(ConnectionID(rawValue: 77), .handshakeTimedOut))
    }

    @Test func aForgedTokenIsRefused() throws {
        var flipped = try Self.token()
        flipped.sealed[40] ^= 0x01
        var longer = try Self.token()
        longer.expiresAtUnixSeconds += 3_600  // the expiry is associated data: changing it breaks the seal
        let otherKey = try Self.token(key: GameNetKey(bytes: Array(repeating: 0x43, count: 32))!)  // 32 bytes: never nil
        let otherGame = try Self.token(protocolID: Self.protocolID + 1)
        for (seed, token) in [(112, flipped), (113, longer), (114, otherKey), (115, otherGame)] {
            let (net, client) = try Self.network(seed: UInt64(seed), token: token)
            _ = net.run(forNs: 1_000_000_000)
            #expect(!client.isConnected && net.host.connectionCount == 0 && net.host.refusedTokens > 0, "seed \(seed)")
            #expect(net.host.takeDatagrams().isEmpty)
        }
    }

    @Test func aTokenWhosePublicKeysWereChangedNeverConnects() throws {
        var token = try Self.token()
        token.serverToClientKey = GameNetKey(bytes: Array(repeating: 9, count: 32))!  // 32 bytes: never nil
        let (net, client) = try Self.network(seed: 116, token: token)
        _ = net.run(forNs: 1_000_000_000)
        #expect(!client.isConnected && client.droppedDatagrams > 0, "the host's sealed accept does not open")
    }

    @Test func aPlainHandshakeToATokenHostIsRefused() throws {
        var hostConfig = GameNetConfig()
        hostConfig.encryption = .connectTokens(hostKey: Self.hostKey, protocolID: Self.protocolID)
        let net = try SimulatedNetwork(seed: 117, config: hostConfig, clientConfig: GameNetConfig())
        let client = try net.addClient(port: 7801)
        _ = net.run(forNs: 1_000_000_000)
        #expect(!client.isConnected && net.host.refusedTokens > 0 && net.host.connectionCount == 0)
    }

    @Test func theTokenCodecRoundTripsAndRefusesAnythingElse() throws {
        let token = try Self.token()
        let bytes = token.encoded()
        #expect(bytes.count == ConnectToken.size && ConnectToken.size == 189)
        #expect(try ConnectToken.decode(bytes) == token)
        #expect(throws: ConnectTokenError.malformed) { try ConnectToken.decode(Array(bytes.dropLast())) }
        #expect(throws: ConnectTokenError.malformed) { try ConnectToken.decode(bytes + [0]) }
        var wrongVersion = bytes
        wrongVersion[0] = 2
        #expect(throws: ConnectTokenError.malformed) { try ConnectToken.decode(wrongVersion) }
        #expect(ConnectTokenPrivate.size + 12 + 16 == Packet.sealedTokenSize)
        #expect("\(token.clientToServerKey)" == "GameNetKey(32 bytes)", "a key never prints")
    }

    @Test func theReplayWindowRefusesSeenAndTooOldCounters() {
        var window = ReplayWindow()
        #expect(!window.isReplay(1_000))
        window.record(1_000)
        #expect(window.isReplay(1_000) && !window.isReplay(999) && !window.isReplay(1_001))
        window.record(998)
        #expect(window.isReplay(998) && !window.isReplay(999))
        window.record(1_000 + 300)
        #expect(window.isReplay(1_000 + 300 - 256) && !window.isReplay(1_000 + 300 - 255) && window.isReplay(1_000))
        #expect(window.newest == 1_300)
    }
}
