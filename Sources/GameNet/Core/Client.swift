import NetCore

/// The client side of GameNet: one session to one host. Sans-I/O like `Host`: `connect`, then
/// feed it the datagrams from the host (`receive`), call `update` when `nextWakeNs` comes, send
/// what `takeDatagrams` returns, handle what `pollEvent` returns.
///
/// It sends a connect request padded to 1,200 bytes every `handshakeResendNs` until the host's
/// challenge comes, then the padded response with the cookie until the accept comes, then its
/// first packet with the session token (which confirms the session on the host) and reports
/// `.connected`. No accept within `handshakeTimeoutNs` is `.disconnected(_, .handshakeTimedOut)`
/// (the id is then the client's own random id). Packets from any other address, or for another
/// client id, connection or token, are dropped. Not thread-safe: one thread.
public final class Client {
    /// The configuration the client was made with (channels, timeouts, encryption).
    public let config: GameNetConfig
    /// The host's address: every datagram goes there, and only its datagrams are accepted.
    public let server: SocketAddress
    /// Datagrams dropped: undecodable, from another address, or not for this session.
    public private(set) var droppedDatagrams = 0

    private enum State {
        case idle
        case requesting(startedNs: Int64, lastSentNs: Int64)
        case responding(startedNs: Int64, lastSentNs: Int64, cookie: Packet.Cookie)
        case connected(Connection)
        case closed
    }

    private var state = State.idle
    private var random: any RandomNumberGenerator
    private let clientID: UInt64
    private let initialSequence: UInt32
    private var outgoing: [OutgoingDatagram] = []
    private var events: [GameNetEvent] = []
    /// The one peer's partial fragmented messages (its own bound is `maxReassemblyBytesPerPeer`).
    private let reassembly: ReassemblyPool
    /// Encryption on: the base keys (the token's, or the pre-shared key for both directions).
    private let baseKeys: (clientToServer: GameNetKey, serverToClient: GameNetKey)?
    private let token: ConnectToken?

    private static func keys(_ config: GameNetConfig) throws(GameNetError) -> (
        keys: (clientToServer: GameNetKey, serverToClient: GameNetKey)?, token: ConnectToken?
    ) {
        switch config.encryption {
        case .off: return (nil, nil)
        case .preSharedKey(let key): return ((key, key), nil)
        case .connectToken(let token): return ((token.clientToServerKey, token.serverToClientKey), token)
        case .connectTokens: throw .invalidConfig("a client takes .connectToken(token), not the host's key")
        }
    }

    /// With `.connectToken` encryption the client's id is the token's.
    /// - Throws: `GameNetError.invalidConfig` (also for the host's `.connectTokens`).
    public init(
        server: SocketAddress, config: GameNetConfig = GameNetConfig(),
        random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    ) throws(GameNetError) {
        if let problem = config.problem { throw .invalidConfig(problem) }
        (baseKeys, token) = try Self.keys(config)
        self.server = server
        self.config = config
        self.random = random
        clientID = token?.clientID ?? self.random.next()
        initialSequence = UInt32(truncatingIfNeeded: self.random.next())
        reassembly = ReassemblyPool(limit: config.maxReassemblyBytesPerHost)
    }

    /// Tests: a client whose packet sequence starts at `initialSequence` (near 2^32, say).
    init(server: SocketAddress, config: GameNetConfig, random: any RandomNumberGenerator, initialSequence: UInt32) throws {
        if let problem = config.problem { throw GameNetError.invalidConfig(problem) }
        (baseKeys, token) = try Self.keys(config)
        self.server = server
        self.config = config
        self.random = random
        clientID = token?.clientID ?? self.random.next()
        self.initialSequence = initialSequence
        reassembly = ReassemblyPool(limit: config.maxReassemblyBytesPerHost)
    }

    /// The session's id once connected.
    public var connectionID: ConnectionID? {
        if case .connected(let c) = state { return c.connectionID }
        return nil
    }

    /// True once the handshake has completed and until the session ends.
    public var isConnected: Bool { connectionID != nil }

    /// The session's counters once connected.
    public var stats: ConnectionStats? {
        if case .connected(let c) = state { return c.statsSnapshot }
        return nil
    }

    /// Packets of reliable data the host has not acknowledged yet, once connected (for tests).
    var reliablePacketsInFlight: Int? {
        if case .connected(let c) = state { return c.reliablePacketsInFlight }
        return nil
    }

    /// Starts the handshake (its first packet is in `takeDatagrams()` at once). Only from idle.
    public func connect(nowNs: Int64) {
        guard case .idle = state else { return }
        state = .requesting(startedNs: nowNs, lastSentNs: nowNs)
        outgoing.append(OutgoingDatagram(bytes: requestPacket(), to: server))
    }

    /// The next event (`.connected`, `.message`, `.disconnected`), or nil when none is waiting.
    /// Call it until nil after each `receive` and `update`.
    public func pollEvent() -> GameNetEvent? { events.isEmpty ? nil : events.removeFirst() }

    /// The datagrams to send to `server` now, in order; the client forgets them (it owns no socket).
    public func takeDatagrams() -> [OutgoingDatagram] {
        defer { outgoing.removeAll(keepingCapacity: true) }
        return outgoing
    }

    /// When `update` next has work, or nil (idle or closed).
    public var nextWakeNs: Int64? {
        switch state {
        case .idle, .closed: return nil
        case .requesting(let started, let last), .responding(let started, let last, _):
            return min(last + config.handshakeResendNs, started + config.handshakeTimeoutNs)
        case .connected(let c): return c.nextWakeNs()
        }
    }

    /// Whether a message is queued that the caps and windows would let go now. O(channels).
    public var hasQueuedMessages: Bool {
        if case .connected(let c) = state { return c.hasSendable }
        return false
    }

    /// Sends the queued messages the caps and windows allow now, without the rest of
    /// `update`'s work (the driver's flush timer calls it between updates).
    public func flush(nowNs: Int64) {
        guard case .connected(let c) = state else { return }
        while let datagram = c.nextDataPacket(nowNs: nowNs) { outgoing.append(OutgoingDatagram(bytes: datagram, to: server)) }
    }

    /// Queues a message; see `Host.send`. - Throws: `GameNetError` (`.notConnected` before the accept).
    public func send(_ message: [UInt8], channel: Int) throws(GameNetError) {
        guard case .connected(let c) = state else { throw .notConnected }
        try c.queue(message, channel: channel)
    }

    /// Ends the session (its disconnect goes out three times) and reports `.closedLocally`.
    public func disconnect(nowNs: Int64) {
        if case .connected(let c) = state {
            outgoing += c.closingDatagrams(nowNs: nowNs)
            events.append(.disconnected(c.connectionID, .closedLocally))
        }
        state = .closed
    }

    /// Advances the client to `nowNs` (monotonic nanoseconds): resends handshake packets, times
    /// the handshake out, and on a session sends due acks, resends, keep-alives and queued messages
    /// and detects a dead peer. Call it once a frame, or at `nextWakeNs`.
    public func update(nowNs: Int64) {
        switch state {
        case .idle, .closed: return
        case .requesting(let started, let last):
            if nowNs - started >= config.handshakeTimeoutNs { return fail(.handshakeTimedOut) }
            if nowNs - last >= config.handshakeResendNs {
                state = .requesting(startedNs: started, lastSentNs: nowNs)
                outgoing.append(OutgoingDatagram(bytes: requestPacket(), to: server))
            }
        case .responding(let started, let last, let cookie):
            if nowNs - started >= config.handshakeTimeoutNs { return fail(.handshakeTimedOut) }
            if nowNs - last >= config.handshakeResendNs { sendResponse(cookie, started: started, nowNs: nowNs) }
        case .connected(let c):
            if !c.update(nowNs: nowNs, out: &outgoing) {
                state = .closed
                events.append(.disconnected(c.connectionID, .timedOut))
            }
        }
    }

    /// Takes one datagram from the socket. With encryption on, a data packet must open under
    /// the session's key and not be a replay, and the host's accept or reject must come sealed;
    /// anything else is dropped before any state changes.
    public func receive(_ bytes: [UInt8], from: SocketAddress, nowNs: Int64) {
        guard from == server else {
            droppedDatagrams += 1
            return
        }
        if baseKeys != nil, Packet.isData(bytes) { return receiveSealed(bytes, nowNs: nowNs) }
        guard var packet = try? Packet.decode(bytes, maxSize: config.mtu) else {
            droppedDatagrams += 1
            return
        }
        if let baseKeys {
            switch packet {
            case .challenge: break
            case .sealedReply(let id, let box) where id == clientID:
                guard let inner = openReply(box, key: baseKeys.serverToClient) else {
                    droppedDatagrams += 1
                    return
                }
                packet = inner
            default:
                droppedDatagrams += 1  // a reply in the clear, which anyone on the path could forge
                return
            }
        }
        switch (state, packet) {
        case (.requesting(let started, _), .challenge(let id, let cookie)) where id == clientID:
            sendResponse(cookie, started: started, nowNs: nowNs)
        case (.requesting, .accept(let id, let connectionID, let token, let peerSequence)) where id == clientID,
            (.responding, .accept(let id, let connectionID, let token, let peerSequence)) where id == clientID:
            var cipher: SessionCipher?
            if let baseKeys {
                guard
                    let session = SessionCipher.Keys.derive(
                        clientToServer: baseKeys.clientToServer, serverToClient: baseKeys.serverToClient, connectionID: connectionID,
                        token: token, clientID: clientID),
                    let made = SessionCipher(
                        sealingKey: session.clientToServer, openingKey: session.serverToClient, initialSequence: initialSequence,
                        peerInitialSequence: peerSequence)
                else { return }  // OpenSSL failed: as a lost accept, the host's next one may do
                cipher = made
            }
            let connection = Connection(
                id: connectionID, token: token, address: server, settings: ConnectionSettings(config), clientID: clientID,
                initialSequence: initialSequence, peerInitialSequence: peerSequence, isHostSide: false, nowNs: nowNs,
                pool: reassembly, cipher: cipher)
            state = .connected(connection)
            events.append(.connected(connection.connectionID))
            // The first packet with the token confirms the session on the host.
            connection.forceKeepAlive()
            _ = connection.update(nowNs: nowNs, out: &outgoing)
        case (.requesting, .reject(let id, let reason)) where id == clientID,
            (.responding, .reject(let id, let reason)) where id == clientID:
            fail(.rejected(reason))
        case (.connected(let c), .data(let header, let frames)) where header.token == c.token:
            take(header, frames: frames, size: bytes.count, on: c, nowNs: nowNs)
        default:
            droppedDatagrams += 1
        }
    }

    /// An encrypted data datagram: the session's token in its clear header, then it must
    /// open (authentic, not a replay) before it is decoded and taken.
    private func receiveSealed(_ bytes: [UInt8], nowNs: Int64) {
        guard case .connected(let c) = state, bytes.count <= config.mtu, let header = Packet.dataHeader(of: bytes),
            header.token == c.token, let plain = c.open(bytes, header: header),
            case .data(let opened, let frames)? = try? Packet.decode(plain, maxSize: config.mtu)
        else {
            droppedDatagrams += 1
            return
        }
        take(opened, frames: frames, size: bytes.count, on: c, nowNs: nowNs)
    }

    private func openReply(_ box: [UInt8], key base: GameNetKey) -> Packet? {
        let ad = Packet.sealedReply(clientID: clientID, box: []).encoded()
        guard let key = SessionCipher.replyKey(serverToClient: base, clientID: clientID), let aead = AEAD(key: key),
            let inner = aead.open(nonce: Array(box[..<AEAD.nonceSize]), ad: ad[...], sealed: box[AEAD.nonceSize...]),
            let packet = try? Packet.decode(inner)
        else { return nil }
        switch packet {
        case .accept(let id, _, _, _) where id == clientID, .reject(let id, _) where id == clientID: return packet
        default: return nil
        }
    }

    private func requestPacket() -> [UInt8] {
        guard let token else { return Packet.connectRequest(clientID: clientID).encoded() }
        return Packet.tokenRequest(clientID: clientID, token: sealedToken(token)).encoded()
    }

    private func sealedToken(_ token: ConnectToken) -> Packet.SealedToken {
        Packet.SealedToken(protocolID: token.protocolID, expiresAtUnixSeconds: token.expiresAtUnixSeconds, sealed: token.sealed)
    }

    private func take(_ header: Packet.DataHeader, frames: [Frame], size: Int, on c: Connection, nowNs: Int64) {
        switch c.receive(header, frames: frames, size: size, nowNs: nowNs, events: &events) {
        case .dropped: break
        case .accepted: c.ackIfBehind(nowNs: nowNs, out: &outgoing)
        case .peerClosed:
            state = .closed
            c.releaseReassembly()
            events.append(.disconnected(c.connectionID, .closedByPeer))
        case .violation(let error):
            outgoing += c.closingDatagrams(nowNs: nowNs)
            state = .closed
            c.releaseReassembly()
            events.append(.disconnected(c.connectionID, .protocolViolation(error)))
        }
    }

    private func sendResponse(_ cookie: Packet.Cookie, started: Int64, nowNs: Int64) {
        state = .responding(startedNs: started, lastSentNs: nowNs, cookie: cookie)
        let response =
            if let token {
                Packet.tokenResponse(clientID: clientID, cookie: cookie, initialSequence: initialSequence, token: sealedToken(token))
            } else {
                Packet.challengeResponse(clientID: clientID, cookie: cookie, initialSequence: initialSequence)
            }
        outgoing.append(OutgoingDatagram(bytes: response.encoded(), to: server))
    }

    private func fail(_ reason: DisconnectReason) {
        state = .closed
        events.append(.disconnected(ConnectionID(rawValue: clientID), reason))
    }
}
