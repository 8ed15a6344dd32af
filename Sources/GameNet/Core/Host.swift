import Glibc
import NetCore

/// The server side of GameNet on one UDP port: many peers, each a `Connection`, behind a
/// stateless handshake. Sans-I/O: feed it every datagram the port receives (`receive`) and call
/// `update` when `nextWakeNs` comes (or once per frame); send what `takeDatagrams` returns and
/// handle what `pollEvent` returns.
///
/// The handshake (netcode.io's and DTLS's cookie exchange): a client's padded connect request
/// gets a challenge carrying a cookie (a SipHash of the client's address, id and an expiry under
/// a random key) and nothing is stored; only a padded response that returns a valid cookie
/// creates a connection, with a random 64-bit id, a random session token and a random initial
/// sequence, answered by an accept. It stays pending (bounded by `maxPendingHandshakes`) until
/// the client's first packet with the token confirms it, which reports `.connected`. Every reply
/// is at most 29 bytes (66 sealed) against the client's 1,200, so a forged source address gains nothing.
/// A data packet whose token or source address is wrong is dropped before any
/// state changes. A new session from the address of an existing one (a restarted client)
/// replaces it: the old one is reported `.disconnected(.replaced)`.
///
/// Not thread-safe: use it from one thread (the driver's loop). Each call costs O(datagrams
/// handled); `update` visits every connection.
public final class Host {
    /// The configuration the host was made with (channels, limits, encryption).
    public let config: GameNetConfig
    /// Datagrams refused by the decoder, from unknown connections, with a wrong token or address,
    /// or handshake packets with a bad cookie: all dropped without an answer or a state change.
    public private(set) var malformedDatagrams = 0
    /// Data packets whose session token names no session of this host (a wrong token).
    public private(set) var unknownConnectionDatagrams = 0
    /// Data packets with a session's token from an address not that session's.
    public private(set) var forgedDatagrams = 0
    /// Handshake responses whose cookie was wrong or expired.
    public private(set) var badCookies = 0
    /// Handshakes refused with a reject (`.hostFull`, `.tooManyHandshakes`).
    public private(set) var rejectedHandshakes = 0
    /// Encryption on: connect tokens refused (forged, expired, another protocol's, or a
    /// handshake without one), and data packets that failed authentication or were replays.
    public private(set) var refusedTokens = 0
    /// Encryption on: data packets that failed authentication or were replays, dropped before any
    /// state changed.
    public private(set) var unauthenticatedDatagrams = 0
    /// The wall clock connect tokens' expiry is checked against, in Unix seconds (the system's
    /// by default; tests set another). Called once per token packet, on the host's thread.
    public var unixTime: () -> UInt64 = { UInt64(max(0, time(nil))) }

    private var random: any RandomNumberGenerator
    /// What every connection shares (one copy of the configuration, not one per peer).
    private let settings: ConnectionSettings
    private let cookieKey: SipHash24
    /// `.connectTokens`: the key that opens tokens.
    private let tokenKey: AEAD?
    private var connections: [UInt64: Connection] = [:]
    /// The same connections by session token: a data packet names its session by the token.
    private var byToken: [UInt64: Connection] = [:]
    /// Connections by client address and client id (repeated responses get the same accept).
    /// Keyed by the address's hash (Swift's seeded SipHash), not the address itself: a
    /// `SocketAddress` key is 136 bytes, and the table's spare buckets made that about 300 bytes
    /// a peer. A hit is checked against the connection's address (`clientEntry`); two addresses
    /// with the same 64-bit hash (never in practice) would only cost the later one the repeated
    /// accept and the replacement of its old session, as a lost packet would.
    private var byClient: [Int: Connection] = [:]
    private var pendingCount = 0
    /// Every connection's partial fragmented messages, bounded by `maxReassemblyBytesPerHost`.
    private let reassembly: ReassemblyPool
    private var outgoing: [OutgoingDatagram] = []
    /// Connections `send` queued a message on since their last flush (what `flush` visits).
    private var queuedOn: Set<UInt64> = []
    /// The host-wide bandwidth cap, when configured, and the round-robin turn of each
    /// connection under it (the longest unserved goes first).
    private var hostBucket: TokenBucket?
    private var servedTurn: [UInt64: UInt64] = [:]
    /// At or before the earliest `cachedWakeNs` of all connections (exact after an `update`).
    private var earliestWakeNs: Int64 = .max
    /// Every connection's `cachedWakeNs` (and stale entries), so `update` visits only the due.
    private var wakeQueue = WakeQueue()
    private var turn: UInt64 = 0
    private var events: [GameNetEvent] = []
    private var eventHead = 0
    /// Tests set it to start every sequence near 2^32.
    var initialSequenceForTests: UInt32?
    /// A session's token, for tests that forge packets as a peer on the path would.
    func sessionTokenForTests(_ id: ConnectionID) -> UInt64? { connections[id.rawValue]?.token }

    /// - Parameter random: where ids, tokens, sequences and the cookie key come from; the system
    ///   generator by default (tests pass a seeded one).
    /// - Parameter config: the channels, limits, timeouts and encryption; checked here.
    /// - Throws: `GameNetError.invalidConfig`.
    public init(config: GameNetConfig = GameNetConfig(), random: any RandomNumberGenerator = SystemRandomNumberGenerator())
        throws(GameNetError)
    {
        if let problem = config.problem { throw .invalidConfig(problem) }
        if case .connectToken = config.encryption {
            throw .invalidConfig("a host takes .connectTokens(hostKey:protocolID:), not a client's token")
        }
        self.config = config
        settings = ConnectionSettings(config)
        self.random = random
        cookieKey = SipHash24(k0: self.random.next(), k1: self.random.next())
        if case .connectTokens(let key, _) = config.encryption {
            guard let aead = AEAD(key: key) else { throw .invalidConfig("OpenSSL could not set up ChaCha20-Poly1305") }
            tokenKey = aead
        } else {
            tokenKey = nil
        }
        reassembly = ReassemblyPool(limit: config.maxReassemblyBytesPerHost)
        if config.maxBytesPerSecondPerHost > 0 {
            hostBucket = TokenBucket(
                bytesPerSecond: config.maxBytesPerSecondPerHost, burst: config.bandwidthBurst(forRate: config.maxBytesPerSecondPerHost),
                nowNs: 0)
        }
    }

    /// Bytes all peers' partial fragmented messages hold now (payloads and bookkeeping), never
    /// above `maxReassemblyBytesPerHost`.
    public var reassemblyBytesInUse: Int { reassembly.used }

    /// Connected (confirmed) and pending connections.
    public var connectionCount: Int { connections.count }
    /// The confirmed connections.
    public var connectedIDs: [ConnectionID] { connections.values.filter { !$0.isPending }.map(\.connectionID) }

    /// A connection's counters, or nil if it is unknown.
    public func stats(_ id: ConnectionID) -> ConnectionStats? { connections[id.rawValue]?.statsSnapshot }

    /// The next event, or nil.
    public func pollEvent() -> GameNetEvent? {
        guard eventHead < events.count else {
            events.removeAll(keepingCapacity: true)
            eventHead = 0
            return nil
        }
        defer { eventHead += 1 }
        return events[eventHead]
    }

    /// The datagrams to send now, in order.
    public func takeDatagrams() -> [OutgoingDatagram] {
        defer { outgoing.removeAll(keepingCapacity: true) }
        return outgoing
    }

    /// When `update` next has work (a resend, an ack, a keep-alive, a timeout, a queued message
    /// the caps allow), or nil. A time at or before now means at once. Cost: O(1); with a
    /// host-wide cap, O(connections).
    public var nextWakeNs: Int64? {
        guard let hostBucket else { return connections.isEmpty ? nil : earliestWakeNs }
        // Data waits for the host's bucket too; the rest (acks, pings, resend timers) does not.
        var wake = connections.values.map { $0.nextWakeNs(includingData: false) }.min()
        if let data = connections.values.compactMap(\.dataReadyNs).min() {
            wake = min(wake ?? .max, max(data, hostBucket.readyAtNs()))
        }
        return wake
    }

    /// Whether `send` queued a message that no `update` or `flush` has looked at yet. O(1).
    public var hasQueuedMessages: Bool { !queuedOn.isEmpty }

    /// Queues `message` on `channel` of a confirmed connection; it goes out on the next `update`.
    /// On a reliable channel a message over `maxUnfragmentedPayload` (up to `maxMessageSize`) is
    /// split into fragments, each taking one of the channel's queue slots; it is delivered whole.
    /// Cost: one copy of the message.
    /// - Throws: `GameNetError.notConnected`, `.noSuchChannel`, `.messageTooLarge` (over
    ///   `maxMessageSize`, or on an unreliable channel over `maxUnfragmentedPayload`),
    ///   `.sendQueueFull` (nothing is queued then).
    public func send(_ message: [UInt8], to id: ConnectionID, channel: Int) throws(GameNetError) {
        guard let connection = connections[id.rawValue], !connection.isPending else { throw .notConnected }
        try connection.queue(message, channel: channel)
        queuedOn.insert(id.rawValue)
        touched(connection)
    }

    /// Refreshes a connection's wake-up after something outside `update` changed it.
    private func touched(_ connection: Connection) {
        let wake = connection.nextWakeNs()
        guard wake != connection.cachedWakeNs else { return }  // its entry stands
        schedule(connection, at: wake)
    }

    /// Sets a connection's wake time and queues it (the old entry goes stale).
    private func schedule(_ connection: Connection, at wakeNs: Int64) {
        connection.cachedWakeNs = wakeNs
        earliestWakeNs = min(earliestWakeNs, wakeNs)
        wakeQueue.push(wakeNs, connection.id)
        // Stale entries up to half the live ones: the queue of 1,000 idle peers (two or three
        // pushes each per ping interval) then fits 2,048 entries, not 4,096 (32 bytes a peer
        // less), and a rebuild, O(n log n), still comes only once per n/2 pushes.
        if wakeQueue.count > connections.count + connections.count / 2 + 64 {
            wakeQueue.rebuild(connections.values.lazy.map { ($0.cachedWakeNs, $0.id) })
        }
    }

    /// Sends the messages queued since the last `update` or `flush` (what the caps and windows
    /// allow now), without the rest of `update`'s work: the driver's flush timer calls it
    /// between updates. Cost: O(connections that queued something).
    public func flush(nowNs: Int64) {
        let queued = queuedOn.compactMap { connections[$0] }
        queuedOn.removeAll(keepingCapacity: true)
        sendData(of: queued, nowNs: nowNs)
        for connection in queued { touched(connection) }
    }

    /// Ends a connection: its disconnect goes out (three times, unacknowledged) and it is
    /// reported `.disconnected(.closedLocally)`. Unknown ids are ignored.
    public func disconnect(_ id: ConnectionID, nowNs: Int64) {
        guard let connection = connections[id.rawValue] else { return }
        outgoing += connection.closingDatagrams(nowNs: nowNs)
        remove(connection, reason: .closedLocally)
    }

    /// Sends what is due and reports timeouts. Call when `nextWakeNs` comes, or once per frame.
    /// Cost: a comparison per connection, and the work of those that are due.
    public func update(nowNs: Int64) {
        queuedOn.removeAll(keepingCapacity: true)
        if hostBucket == nil {
            // The due ones first, each once (a duplicate entry stops matching: `.max`), then
            // their work, so one that is due again at once waits for the next update.
            var due: [Connection] = []
            while let top = wakeQueue.min, top.wakeNs <= nowNs {
                wakeQueue.popMin()
                guard let connection = connections[top.id], connection.cachedWakeNs == top.wakeNs else { continue }
                connection.cachedWakeNs = .max
                due.append(connection)
            }
            for connection in due {
                if connection.isPending {
                    if nowNs - connection.createdNs >= config.handshakeTimeoutNs {
                        remove(connection, reason: nil)
                        continue
                    }
                } else if !connection.update(nowNs: nowNs, out: &outgoing) {
                    remove(connection, reason: .timedOut)
                    continue
                }
                schedule(connection, at: connection.nextWakeNs())
            }
            while let top = wakeQueue.min, connections[top.id]?.cachedWakeNs != top.wakeNs { wakeQueue.popMin() }
            earliestWakeNs = wakeQueue.min?.wakeNs ?? .max
            return
        }
        // Under the host's cap the same steps, with the data of all connections interleaved.
        var live: [Connection] = []
        for connection in Array(connections.values) {
            if connection.isPending {
                if nowNs - connection.createdNs >= config.handshakeTimeoutNs { remove(connection, reason: nil) }
            } else if connection.expire(nowNs: nowNs) {
                live.append(connection)
            } else {
                remove(connection, reason: .timedOut)
            }
        }
        let sentData = sendData(of: live, nowNs: nowNs)
        for connection in live {
            let before = outgoing.count
            connection.sendControl(nowNs: nowNs, sentData: sentData.contains(connection.id), out: &outgoing)
            for d in outgoing[before...] { hostBucket?.spend(d.bytes.count) }
        }
    }

    /// Appends the data packets of `candidates` that the caps allow now: each connection's
    /// all at once without a host cap; under it, one packet per connection per round, the
    /// longest unserved first, until the host's bucket or the data runs out.
    /// - Returns: the ids of the connections that sent a data packet.
    @discardableResult
    private func sendData(of candidates: [Connection], nowNs: Int64) -> Set<UInt64> {
        var sent: Set<UInt64> = []
        guard hostBucket != nil else {
            for connection in candidates {
                while let datagram = connection.nextDataPacket(nowNs: nowNs) {
                    outgoing.append(OutgoingDatagram(bytes: datagram, to: connection.address))
                    sent.insert(connection.id)
                }
            }
            return sent
        }
        hostBucket?.refill(nowNs: nowNs)
        var waiting = candidates.filter(\.hasSendable).sorted { servedTurn[$0.id, default: 0] < servedTurn[$1.id, default: 0] }
        while !waiting.isEmpty, hostBucket?.allowsData == true {
            var stillWaiting: [Connection] = []
            for connection in waiting {
                guard hostBucket?.allowsData == true else {
                    stillWaiting.append(connection)
                    continue
                }
                guard let datagram = connection.nextDataPacket(nowNs: nowNs) else { continue }
                hostBucket?.spend(datagram.count)
                outgoing.append(OutgoingDatagram(bytes: datagram, to: connection.address))
                sent.insert(connection.id)
                turn += 1
                servedTurn[connection.id] = turn
                stillWaiting.append(connection)
            }
            waiting = stillWaiting
        }
        return sent
    }

    /// Takes one datagram the port received from `from`.
    public func receive(_ bytes: [UInt8], from: SocketAddress, nowNs: Int64) {
        if config.encryption.isOn, Packet.isData(bytes) { return receiveSealed(bytes, from: from, nowNs: nowNs) }
        let packet: Packet
        do { packet = try Packet.decode(bytes, maxSize: config.mtu) } catch {
            malformedDatagrams += 1
            return
        }
        let tokens = tokenKey != nil
        switch packet {
        case .connectRequest(let clientID) where !tokens:
            let cookie = makeCookie(clientID: clientID, address: from, expiresNs: nowNs + config.cookieLifetimeNs, binding: [])
            outgoing.append(OutgoingDatagram(bytes: Packet.challenge(clientID: clientID, cookie: cookie).encoded(), to: from))
        case .challengeResponse(let clientID, let cookie, let peerSequence) where !tokens:
            var keys: (GameNetKey, GameNetKey)?
            if case .preSharedKey(let key) = config.encryption { keys = (key, key) }
            handleResponse(
                clientID: clientID, cookie: cookie, peerSequence: peerSequence, from: from, nowNs: nowNs, binding: [], keys: keys)
        case .tokenRequest(let clientID, let token) where tokens:
            guard openToken(token, clientID: clientID) != nil else { return }
            let cookie = makeCookie(
                clientID: clientID, address: from, expiresNs: nowNs + config.cookieLifetimeNs, binding: token.sealed.suffix(AEAD.tagSize))
            outgoing.append(OutgoingDatagram(bytes: Packet.challenge(clientID: clientID, cookie: cookie).encoded(), to: from))
        case .tokenResponse(let clientID, let cookie, let peerSequence, let token) where tokens:
            guard let keys = openToken(token, clientID: clientID) else { return }
            handleResponse(
                clientID: clientID, cookie: cookie, peerSequence: peerSequence, from: from, nowNs: nowNs,
                binding: token.sealed.suffix(AEAD.tagSize), keys: (keys.clientToServerKey, keys.serverToClientKey))
        case .connectRequest, .challengeResponse, .tokenRequest, .tokenResponse:
            refusedTokens += 1  // the wrong handshake for this host's encryption
        case .data(let header, let frames):
            guard let connection = session(named: header, from: from) else { return }
            take(header, frames: frames, size: bytes.count, on: connection, nowNs: nowNs)
        case .challenge, .accept, .reject, .sealedReply:
            malformedDatagrams += 1  // a client's packets only
        }
    }

    /// The session a data packet's token names, if it came from that session's address; else
    /// nil, counted (a token no session has, or a real one from elsewhere). Nothing else changes.
    private func session(named header: Packet.DataHeader, from: SocketAddress) -> Connection? {
        guard let connection = byToken[header.token] else {
            unknownConnectionDatagrams += 1
            return nil
        }
        guard from == connection.address else {
            forgedDatagrams += 1
            return nil
        }
        return connection
    }

    /// An encrypted data datagram: the clear header's token and the address checked, then
    /// opened (authenticated, not a replay), and only then decoded and taken.
    private func receiveSealed(_ bytes: [UInt8], from: SocketAddress, nowNs: Int64) {
        guard bytes.count <= config.mtu, let header = Packet.dataHeader(of: bytes) else {
            malformedDatagrams += 1
            return
        }
        guard let connection = session(named: header, from: from) else { return }
        guard let plain = connection.open(bytes, header: header) else {
            unauthenticatedDatagrams += 1
            return
        }
        guard case .data(let opened, let frames)? = try? Packet.decode(plain, maxSize: config.mtu) else {
            malformedDatagrams += 1  // authentic, so the peer's bug: dropped all the same
            return
        }
        take(opened, frames: frames, size: bytes.count, on: connection, nowNs: nowNs)
    }

    /// The token's keys if it opens, is not expired and names `clientID`; else counted, nil.
    private func openToken(_ token: Packet.SealedToken, clientID: UInt64) -> ConnectTokenPrivate? {
        guard let tokenKey, case .connectTokens(_, let protocolID) = config.encryption else { return nil }
        do {
            return try ConnectToken.open(
                sealed: token.sealed, clientID: clientID, protocolID: token.protocolID, expiresAtUnixSeconds: token.expiresAtUnixSeconds,
                expectedProtocolID: protocolID, nowUnixSeconds: unixTime(), hostKey: tokenKey)
        } catch {
            refusedTokens += 1
            return nil
        }
    }

    /// A data packet of a known session with the right token and address (and, encrypted,
    /// authentic): the connection takes it; then the events, acks and endings it caused.
    private func take(_ header: Packet.DataHeader, frames: [Frame], size: Int, on connection: Connection, nowNs: Int64) {
        let wasPending = connection.isPending
        var delivered: [GameNetEvent] = []
        let outcome = connection.receive(header, frames: frames, size: size, nowNs: nowNs, events: &delivered)
        guard outcome != .dropped else { return }
        if wasPending { confirm(connection) }  // reported before the messages that confirmed it
        events += delivered
        connection.ackIfBehind(nowNs: nowNs, out: &outgoing)
        switch outcome {
        case .peerClosed: remove(connection, reason: .closedByPeer)
        case .violation(let error):
            outgoing += connection.closingDatagrams(nowNs: nowNs)
            remove(connection, reason: .protocolViolation(error))
        case .accepted, .dropped: break
        }
        if connections[connection.id] != nil { touched(connection) }
    }

    private func handleResponse(
        clientID: UInt64, cookie: Packet.Cookie, peerSequence: UInt32, from: SocketAddress, nowNs: Int64, binding: ArraySlice<UInt8>,
        keys: (clientToServer: GameNetKey, serverToClient: GameNetKey)?
    ) {
        guard cookie.expiresNs > nowNs,
            cookie == makeCookie(clientID: clientID, address: from, expiresNs: cookie.expiresNs, binding: binding)
        else {
            badCookies += 1
            return
        }
        if let existing = clientEntry(from), existing.clientID == clientID {
            // The accept was lost: the same one again (a confirmed session ignores it).
            if existing.isPending { outgoing.append(OutgoingDatagram(bytes: existing.acceptDatagram, to: from)) }
            return
        }
        let reason: Packet.RejectReason? =
            connections.count >= config.maxConnections
            ? .hostFull : (pendingCount >= config.maxPendingHandshakes ? .tooManyHandshakes : nil)
        if let reason {
            rejectedHandshakes += 1
            let reject = Packet.reject(clientID: clientID, reason: reason).encoded()
            guard let sealed = seal(reject, clientID: clientID, under: keys?.serverToClient) else { return }
            outgoing.append(OutgoingDatagram(bytes: sealed, to: from))
            return
        }
        var id = random.next()
        while id == 0 || connections[id] != nil { id = random.next() }
        var token = random.next()
        while byToken[token] != nil { token = random.next() }  // unique: it names the session
        let initialSequence = initialSequenceForTests ?? UInt32(truncatingIfNeeded: random.next())
        var cipher: SessionCipher?
        if let keys {
            guard
                let session = SessionCipher.Keys.derive(
                    clientToServer: keys.clientToServer, serverToClient: keys.serverToClient, connectionID: id, token: token,
                    clientID: clientID),
                let made = SessionCipher(
                    sealingKey: session.serverToClient, openingKey: session.clientToServer, initialSequence: initialSequence,
                    peerInitialSequence: peerSequence)
            else { return }  // OpenSSL failed: as a lost response, the client sends it again
            cipher = made
        }
        let connection = Connection(
            id: id, token: token, address: from, settings: settings, clientID: clientID, initialSequence: initialSequence,
            peerInitialSequence: peerSequence, isHostSide: true, nowNs: nowNs, pool: reassembly, cipher: cipher)
        guard let accept = seal(acceptPacket(connection), clientID: clientID, under: keys?.serverToClient) else { return }
        connection.acceptDatagram = accept
        connections[id] = connection
        byToken[token] = connection
        touched(connection)
        pendingCount += 1
        // An older session from this address stays until the new one is confirmed, then goes.
        if clientEntry(from) == nil { byClient[from.hashValue] = connection }
        outgoing.append(OutgoingDatagram(bytes: accept, to: from))
    }

    /// A handshake reply as is (encryption off), or sealed as a `sealedReply` under the reply
    /// key of the base server-to-client key, with a random nonce. Nil if OpenSSL failed.
    private func seal(_ reply: [UInt8], clientID: UInt64, under base: GameNetKey?) -> [UInt8]? {
        guard let base else { return reply }
        var box = nonce(random.next(), random.next())
        let ad = Packet.sealedReply(clientID: clientID, box: []).encoded()
        guard let key = SessionCipher.replyKey(serverToClient: base, clientID: clientID), let aead = AEAD(key: key),
            aead.seal(nonce: box, ad: ad[...], plaintext: reply[...], into: &box)
        else { return nil }
        return Packet.sealedReply(clientID: clientID, box: box).encoded()
    }

    /// The connection `byClient` holds for `address`, if it is that address's.
    private func clientEntry(_ address: SocketAddress) -> Connection? {
        byClient[address.hashValue].flatMap { $0.address == address ? $0 : nil }
    }

    private func confirm(_ connection: Connection) {
        pendingCount -= 1
        if let old = clientEntry(connection.address), old !== connection {
            if old.isPending {
                connections[old.id] = nil
                byToken[old.token] = nil
                pendingCount -= 1
            } else {
                remove(old, reason: .replaced)
            }
        }
        byClient[connection.address.hashValue] = connection
        connection.acceptDatagram = []  // answered only while pending: its memory back
        events.append(.connected(connection.connectionID))
    }

    private func remove(_ connection: Connection, reason: DisconnectReason?) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        byToken[connection.token] = nil
        connection.releaseReassembly()
        if connection.isPending { pendingCount -= 1 }
        servedTurn[connection.id] = nil
        queuedOn.remove(connection.id)
        if byClient[connection.address.hashValue] === connection { byClient[connection.address.hashValue] = nil }
        if let reason { events.append(.disconnected(connection.connectionID, reason)) }
    }

    private func acceptPacket(_ connection: Connection) -> [UInt8] {
        Packet.accept(
            clientID: connection.clientID, connectionID: connection.id, token: connection.token,
            initialSequence: connection.initialSequence
        ).encoded()
    }

    /// The cookie for a client at `address`: bound also to its token's tag when it has one, so
    /// a response cannot swap in another token.
    private func makeCookie(clientID: UInt64, address: SocketAddress, expiresNs: Int64, binding: ArraySlice<UInt8>) -> Packet.Cookie {
        var w = WireWriter(capacity: 96)
        w.u64(clientID)
        w.u64(UInt64(bitPattern: expiresNs))
        w.append(Array(binding))
        w.append(Array(address.description.utf8))
        return Packet.Cookie(expiresNs: expiresNs, mac: cookieKey.hash(w.bytes))
    }
}
