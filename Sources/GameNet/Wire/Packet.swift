/// GameNet's wire format: one packet per UDP datagram, big-endian. The first byte holds the
/// version (high four bits) and the packet's type (low four).
///
/// ```
/// every packet      0 version and type (1)
/// connectRequest    1 client id (8)                      zero padding to 1,200 bytes
/// challenge         1 client id (8)  9 cookie (16)                               (25 bytes)
/// challengeResponse 1 client id (8)  9 cookie (16)  25 client initial sequence (4)
///                                                        zero padding to 1,200 bytes
/// accept            1 client id (8)  9 connection id (8)  17 session token (8)
///                   25 server initial sequence (4)                               (29 bytes)
/// reject            1 client id (8)  9 reason (1)                                (10 bytes)
/// data              1 session token (8)  9 sequence (2)  11 ack (2)  13 ack bits (4)
///                   17 frames...
/// dataWide          1 session token (8)  9 sequence (4)  13 ack (4)  17 ack bits (4)
///                   21 frames...
///                   (encrypted: the header, sealed frames..., tag (16); `decode` reads only plaintext)
/// tokenRequest      1 client id (8)  9 protocol id (8)  17 token expiry (8)
///                   25 sealed token (100)                zero padding to 1,200 bytes
/// tokenResponse     1 client id (8)  9 cookie (16)  25 client initial sequence (4)
///                   29 protocol id (8)  37 token expiry (8)  45 sealed token (100)
///                                                        zero padding to 1,200 bytes
/// sealedReply       1 client id (8)  9 nonce (12)  21 sealed accept or reject, tag (16)
///                                                                         (at most 66 bytes)
/// ```
/// With encryption on, a client sends `tokenRequest` and `tokenResponse` (connect tokens) or
/// the plain ones (a pre-shared key), and the host answers with a `sealedReply` holding the
/// encoded accept or reject (its first 9 bytes are the associated data).
/// A data packet names its session by the token alone, not by the connection id too: the host
/// finds the session by its token (random, 64 bits, unique among its sessions) and checks that
/// it came from the session's address, so 8 more bytes in every packet would buy nothing.
/// The client pads both of its handshake packets to 1,200 bytes and the host's replies are at
/// most 29, so a forged source address gets no amplification. A data packet's `ack` is the
/// newest packet sequence the sender has received from the other side, and bit `i` of `ackBits`
/// says that `ack - 1 - i` arrived too (the 32 before it), so every packet acknowledges.
///
/// A `data` packet carries the low 16 bits of its sequence and ack, as QUIC truncates its packet
/// numbers (RFC 9000 §17.1): the receiver takes the 32-bit value nearest the one it expects
/// (`expandSequence`). The sender keeps that unambiguous and sends `dataWide` (all 32 bits)
/// whenever either value could be 2^15 or more from what the peer expects (`Connection`'s
/// rule); the packet says which, so both spellings decode alone.
///
/// `decode` checks every field, the exact length of fixed-size packets, the zero padding and
/// every frame: a datagram is accepted whole or rejected whole with a `PacketError`.
public enum Packet: Equatable, Sendable {
    /// The client's first handshake packet, padded to `paddedHandshakeSize`.
    case connectRequest(clientID: UInt64)
    /// The host's answer to a request: a stateless cookie for the client to return.
    case challenge(clientID: UInt64, cookie: Cookie)
    /// The client returns the cookie (padded), with its first sequence number.
    case challengeResponse(clientID: UInt64, cookie: Cookie, initialSequence: UInt32)
    /// The host accepts: the session's connection id, token and the host's first sequence number.
    case accept(clientID: UInt64, connectionID: UInt64, token: UInt64, initialSequence: UInt32)
    /// The host refuses the handshake, for `reason`.
    case reject(clientID: UInt64, reason: RejectReason)
    /// A session packet: its header, then its frames (messages, fragments, acks, pings).
    case data(DataHeader, frames: [Frame])
    /// Encryption with connect tokens: the client's first handshake packet, carrying its token.
    case tokenRequest(clientID: UInt64, token: SealedToken)
    /// Encryption with connect tokens: the client returns the cookie with its token.
    case tokenResponse(clientID: UInt64, cookie: Cookie, initialSequence: UInt32, token: SealedToken)
    /// Encryption with connect tokens: the host's accept or reject, sealed with the token's key.
    case sealedReply(clientID: UInt64, box: [UInt8])

    /// The bytes of a connect token's sealed part: nonce, ciphertext of its private part, tag.
    public static let sealedTokenSize = 12 + 72 + 16
    /// The sealed box of a `sealedReply`: nonce, an accept (29 bytes) or reject (10), tag.
    static let sealedReplyBoxSizes: Set<Int> = [12 + 29 + 16, 12 + 10 + 16]

    /// What a client's token packets carry of its connect token: the parts a host reads in the
    /// clear (and the sealed part authenticates) and the sealed part.
    public struct SealedToken: Equatable, Sendable {
        /// The protocol id, in the clear (authenticated by the sealed part).
        public var protocolID: UInt64
        /// When the token expires, Unix seconds, in the clear (authenticated by the sealed part).
        public var expiresAtUnixSeconds: UInt64
        /// The sealed part: `Packet.sealedTokenSize` bytes only the hosts can open.
        public var sealed: [UInt8]
        /// A sealed token from its parts.
        public init(protocolID: UInt64, expiresAtUnixSeconds: UInt64, sealed: [UInt8]) {
            self.protocolID = protocolID
            self.expiresAtUnixSeconds = expiresAtUnixSeconds
            self.sealed = sealed
        }
    }

    /// The protocol version this build speaks; any other is rejected.
    /// 2: data packets without the connection id. 3: version and type in one byte, 16-bit
    /// sequences in `data` packets, the last frame without its length.
    public static let version: UInt8 = 3
    /// The size of the client's handshake packets (the IPv6 minimum MTU less IP and UDP headers,
    /// rounded down): every reply of the host is smaller.
    public static let paddedHandshakeSize = 1200
    /// Bytes of a data packet before its first frame, at most (a `dataWide` one): what the
    /// connection leaves for the header when it fills a datagram.
    public static let dataHeaderSize = 21
    /// Bytes of a `data` packet's header (16-bit sequence and ack).
    public static let narrowDataHeaderSize = 17
    /// The largest datagram `decode` accepts by default.
    public static let defaultMaxSize = 1200

    /// A host's stateless handshake cookie: when it expires (host clock, nanoseconds) and a keyed
    /// hash of that time, the client's address and id. The host keeps nothing until it comes back.
    public struct Cookie: Equatable, Sendable {
        /// When the cookie expires, host clock, nanoseconds.
        public var expiresNs: Int64
        /// The keyed hash (SipHash-2-4) of the expiry, the client's address and id.
        public var mac: UInt64
        /// A cookie from its parts.
        public init(expiresNs: Int64, mac: UInt64) {
            self.expiresNs = expiresNs
            self.mac = mac
        }
    }

    /// Why a host refused a connection.
    public enum RejectReason: UInt8, Sendable {
        /// It has `maxConnections` peers already.
        case hostFull = 1
        /// It has `maxPendingHandshakes` accepted but unconfirmed handshakes already.
        case tooManyHandshakes = 2
    }

    /// The fixed part of a data packet.
    public struct DataHeader: Equatable, Sendable {
        /// The session token: it names the session, and a packet without the right one is
        /// dropped.
        public var token: UInt64
        /// This packet's sequence number (per direction, from a random start). Narrow, only its
        /// low 16 bits travel: a decoded narrow header holds those, for `expandSequence`.
        public var sequence: UInt32
        /// The newest sequence number received from the peer (narrow: its low 16 bits, as
        /// `sequence`).
        public var ack: UInt32
        /// Bit n set: the packet `ack - 1 - n` was received too (32 packets before `ack`).
        public var ackBits: UInt32
        /// Whether `sequence` and `ack` travel whole (`dataWide`) or as their low 16 bits (`data`).
        public var isWide: Bool
        /// A header from its fields.
        public init(token: UInt64, sequence: UInt32, ack: UInt32, ackBits: UInt32, isWide: Bool = true) {
            self.token = token
            self.sequence = sequence
            self.ack = ack
            self.ackBits = ackBits
            self.isWide = isWide
        }

        /// The header's bytes on the wire.
        public var encodedSize: Int { isWide ? Packet.dataHeaderSize : Packet.narrowDataHeaderSize }
        /// Bits of `sequence` and `ack` on the wire.
        public var sequenceBits: Int { isWide ? 32 : 16 }
    }

    enum Kind: UInt8 {
        case connectRequest = 1
        case challenge = 2
        case challengeResponse = 3
        case accept = 4
        case reject = 5
        case data = 6
        case tokenRequest = 7
        case tokenResponse = 8
        case sealedReply = 9
        case dataWide = 10

        /// The packet's first byte: the version, then the type.
        var firstByte: UInt8 { Packet.version << 4 | rawValue }
    }

    /// The header of a data datagram, read without its frames (an encrypted one's are sealed),
    /// or nil if it is not one.
    static func dataHeader(of bytes: [UInt8]) -> DataHeader? {
        guard isData(bytes) else { return nil }
        var r = WireReader(bytes, offset: 1)
        return readDataHeader(&r, isWide: bytes[0] == Kind.dataWide.firstByte)
    }

    /// Whether a datagram is a data packet (encrypted or not, either width), by its first byte.
    static func isData(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return false }
        return first == Kind.data.firstByte || first == Kind.dataWide.firstByte
    }

    private static func readDataHeader(_ r: inout WireReader, isWide: Bool) -> DataHeader? {
        guard let token = r.u64() else { return nil }
        let sequence: UInt32?
        let ack: UInt32?
        if isWide {
            sequence = r.u32()
            ack = r.u32()
        } else {
            sequence = r.u16().map(UInt32.init)
            ack = r.u16().map(UInt32.init)
        }
        guard let sequence, let ack, let bits = r.u32() else { return nil }
        return DataHeader(token: token, sequence: sequence, ack: ack, ackBits: bits, isWide: isWide)
    }

    /// The datagram for this packet.
    public func encoded() -> [UInt8] {
        var w = WireWriter(capacity: encodedSizeBound)
        switch self {
        case .connectRequest(let clientID):
            w.u8(Kind.connectRequest.firstByte)
            w.u64(clientID)
            w.pad(to: Self.paddedHandshakeSize)
        case .challenge(let clientID, let cookie):
            w.u8(Kind.challenge.firstByte)
            w.u64(clientID)
            Self.write(cookie, to: &w)
        case .challengeResponse(let clientID, let cookie, let initialSequence):
            w.u8(Kind.challengeResponse.firstByte)
            w.u64(clientID)
            Self.write(cookie, to: &w)
            w.u32(initialSequence)
            w.pad(to: Self.paddedHandshakeSize)
        case .accept(let clientID, let connectionID, let token, let initialSequence):
            w.u8(Kind.accept.firstByte)
            w.u64(clientID)
            w.u64(connectionID)
            w.u64(token)
            w.u32(initialSequence)
        case .reject(let clientID, let reason):
            w.u8(Kind.reject.firstByte)
            w.u64(clientID)
            w.u8(reason.rawValue)
        case .data(let header, let frames):
            w.u8(header.isWide ? Kind.dataWide.firstByte : Kind.data.firstByte)
            w.u64(header.token)
            if header.isWide {
                w.u32(header.sequence)
                w.u32(header.ack)
            } else {
                w.u16(UInt16(truncatingIfNeeded: header.sequence))
                w.u16(UInt16(truncatingIfNeeded: header.ack))
            }
            w.u32(header.ackBits)
            for (i, frame) in frames.enumerated() { frame.encode(into: &w, isLast: i == frames.count - 1) }
        case .tokenRequest(let clientID, let token):
            w.u8(Kind.tokenRequest.firstByte)
            w.u64(clientID)
            Self.write(token, to: &w)
            w.pad(to: Self.paddedHandshakeSize)
        case .tokenResponse(let clientID, let cookie, let initialSequence, let token):
            w.u8(Kind.tokenResponse.firstByte)
            w.u64(clientID)
            Self.write(cookie, to: &w)
            w.u32(initialSequence)
            Self.write(token, to: &w)
            w.pad(to: Self.paddedHandshakeSize)
        case .sealedReply(let clientID, let box):
            w.u8(Kind.sealedReply.firstByte)
            w.u64(clientID)
            w.append(box)
        }
        return w.bytes
    }

    /// The packet's size on the wire or a little over (a data packet's last frame has no
    /// length): the buffer `encoded` reserves, so that a 17-byte ack does not hold 1,200 bytes
    /// of heap while it waits to be sent.
    private var encodedSizeBound: Int {
        switch self {
        case .data(let header, let frames): frames.reduce(header.encodedSize) { $0 + $1.encodedSize }
        case .connectRequest, .challengeResponse, .tokenRequest, .tokenResponse: Self.paddedHandshakeSize
        case .challenge, .accept, .reject, .sealedReply: 1 + 8 + 12 + 29 + 16  // the largest: a sealed accept
        }
    }

    /// Parses one datagram.
    /// - Parameter maxSize: the largest datagram accepted (the MTU in force).
    /// - Parameter bytes: the datagram, whole.
    /// - Throws: `PacketError` for anything that is not exactly one well-formed packet.
    /// Pure; any thread; cost linear in the datagram's size.
    public static func decode(_ bytes: [UInt8], maxSize: Int = defaultMaxSize) throws(PacketError) -> Packet {
        guard bytes.count <= max(maxSize, paddedHandshakeSize) else { throw .tooLong(bytes.count) }
        var r = WireReader(bytes)
        guard let first = r.u8() else { throw .truncated }
        // Versions 1 and 2 sent the version in a byte of its own, before the type.
        let version = first < 0x10 ? first : first >> 4
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let kind = Kind(rawValue: first & 0x0F) else { throw .unknownType(first & 0x0F) }
        let packet: Packet
        switch kind {
        case .data, .dataWide:
            guard bytes.count <= maxSize else { throw .tooLong(bytes.count) }
            guard let header = readDataHeader(&r, isWide: kind == .dataWide) else { throw .truncated }
            var frames: [Frame] = []
            while r.remaining > 0 { frames.append(try Frame.decode(from: &r)) }
            return .data(header, frames: frames)
        case .connectRequest:
            let clientID = try readID(&r)
            try checkPadding(bytes, r)
            return .connectRequest(clientID: clientID)
        case .challenge:
            packet = .challenge(clientID: try readID(&r), cookie: try readCookie(&r))
        case .challengeResponse:
            let clientID = try readID(&r)
            let cookie = try readCookie(&r)
            guard let initialSequence = r.u32() else { throw .truncated }
            try checkPadding(bytes, r)
            return .challengeResponse(clientID: clientID, cookie: cookie, initialSequence: initialSequence)
        case .accept:
            let clientID = try readID(&r)
            guard let connectionID = r.u64(), let token = r.u64(), let initialSequence = r.u32() else { throw .truncated }
            packet = .accept(clientID: clientID, connectionID: connectionID, token: token, initialSequence: initialSequence)
        case .reject:
            let clientID = try readID(&r)
            guard let reasonByte = r.u8() else { throw .truncated }
            guard let reason = RejectReason(rawValue: reasonByte) else { throw .unknownRejectReason(reasonByte) }
            packet = .reject(clientID: clientID, reason: reason)
        case .tokenRequest:
            let clientID = try readID(&r)
            let token = try readToken(&r)
            try checkPadding(bytes, r)
            return .tokenRequest(clientID: clientID, token: token)
        case .tokenResponse:
            let clientID = try readID(&r)
            let cookie = try readCookie(&r)
            guard let initialSequence = r.u32() else { throw .truncated }
            let token = try readToken(&r)
            try checkPadding(bytes, r)
            return .tokenResponse(clientID: clientID, cookie: cookie, initialSequence: initialSequence, token: token)
        case .sealedReply:
            let clientID = try readID(&r)
            guard sealedReplyBoxSizes.contains(r.remaining), let box = r.take(r.remaining) else { throw .truncated }
            packet = .sealedReply(clientID: clientID, box: box)
        }
        // The host's fixed-size replies: nothing may follow.
        guard r.remaining == 0 else { throw .tooLong(bytes.count) }
        return packet
    }

    /// The client id every handshake packet starts with.
    private static func readID(_ r: inout WireReader) throws(PacketError) -> UInt64 {
        guard let id = r.u64() else { throw .truncated }
        return id
    }

    private static func checkPadding(_ bytes: [UInt8], _ r: WireReader) throws(PacketError) {
        guard bytes.count == paddedHandshakeSize, r.restIsZero() else { throw .badPadding }
    }

    private static func write(_ cookie: Cookie, to w: inout WireWriter) {
        w.u64(UInt64(bitPattern: cookie.expiresNs))
        w.u64(cookie.mac)
    }

    private static func write(_ token: SealedToken, to w: inout WireWriter) {
        w.u64(token.protocolID)
        w.u64(token.expiresAtUnixSeconds)
        // Always the fixed size on the wire (a wrong-sized one, from a caller's bug, is padded or cut).
        w.append(Array(token.sealed.prefix(sealedTokenSize)))
        w.pad(to: w.bytes.count + sealedTokenSize - min(token.sealed.count, sealedTokenSize))
    }

    private static func readToken(_ r: inout WireReader) throws(PacketError) -> SealedToken {
        guard let protocolID = r.u64(), let expires = r.u64(), let sealed = r.take(sealedTokenSize) else { throw .truncated }
        return SealedToken(protocolID: protocolID, expiresAtUnixSeconds: expires, sealed: sealed)
    }

    private static func readCookie(_ r: inout WireReader) throws(PacketError) -> Cookie {
        guard let expires = r.u64(), let mac = r.u64() else { throw .truncated }
        return Cookie(expiresNs: Int64(bitPattern: expires), mac: mac)
    }
}
