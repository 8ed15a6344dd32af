import NetCore

/// A connection's identity on its host: the random 64-bit id both ends put in every packet.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// The id's 64 bits, as in the packets.
    public let rawValue: UInt64
    /// The id with these bits.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// "conn-" and the id in hexadecimal, for logs.
    public var description: String { "conn-" + String(rawValue, radix: 16) }
}

/// Why a connection ended.
public enum DisconnectReason: Equatable, Sendable {
    /// This side called `disconnect`.
    case closedLocally
    /// The peer sent a disconnect.
    case closedByPeer
    /// Nothing came from the peer for `timeoutNs`.
    case timedOut
    /// Host: the same address completed a new handshake (the peer restarted).
    case replaced
    /// Client: the host refused the handshake.
    case rejected(Packet.RejectReason)
    /// Client: no accept within `handshakeTimeoutNs`.
    case handshakeTimedOut
    /// The peer sent fragments no honest peer sends, or more than the reassembly budget: this
    /// side sent a disconnect and freed its partial messages.
    case protocolViolation(ReassemblyError)
}

/// What a host or client reports; take them with `pollEvent()` after feeding it.
public enum GameNetEvent: Equatable, Sendable {
    /// A handshake completed: on the host once the client's first packet with the session token
    /// arrived; on the client once the accept arrived.
    case connected(ConnectionID)
    /// A message arrived on `channel`.
    case message(ConnectionID, channel: Int, [UInt8])
    /// The connection ended (or, on a client, never began); nothing more comes from it.
    case disconnected(ConnectionID, DisconnectReason)
}

/// A datagram the caller must send (the machines own no socket).
public struct OutgoingDatagram: Sendable, Equatable {
    /// The whole datagram, ready for `sendto`.
    public var bytes: [UInt8]
    /// Where to send it.
    public var to: SocketAddress
}

/// Errors of the calls a game makes (never of bytes from the network: those are dropped and counted).
public enum GameNetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The configuration cannot work; the string says which setting and why.
    case invalidConfig(String)
    /// No such connection, or it has ended.
    case notConnected
    /// The channel number is not one of the configuration's channels.
    case noSuchChannel(Int)
    /// Larger than this channel can carry (`maxMessageSize` on a reliable channel,
    /// `maxUnfragmentedPayload` on an unreliable one); nothing was queued or sent.
    case messageTooLarge(size: Int, limit: Int)
    /// The channel holds `maxQueuedMessages` already; nothing was queued.
    case sendQueueFull(channel: Int)

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .invalidConfig(let why): return "invalid GameNet configuration: \(why)"
        case .notConnected: return "the connection is not (or no longer) connected"
        case .noSuchChannel(let c): return "channel \(c) is not configured"
        case .messageTooLarge(let size, let limit): return "message of \(size) bytes is over the channel's limit of \(limit)"
        case .sendQueueFull(let c): return "channel \(c) already holds its maximum of queued messages; pump the connection first"
        }
    }
}
