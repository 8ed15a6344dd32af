import NetCore

@testable import GameNet

/// A peer that speaks the wire format by hand against a `SimulatedNetwork`'s host: it completes a
/// real handshake (so it holds a valid session token) and then sends whatever frames a test
/// makes, as a hostile peer would. The host's replies to it are decoded and kept; its datagrams
/// to other addresses go on the simulated wire as usual. Test-thread only.
final class RawPeer {
    let address: SocketAddress
    private(set) var connectionID: UInt64 = 0
    private(set) var token: UInt64 = 0
    private var sequence: UInt32 = 5_000
    private var hostSequence: UInt32 = 0
    /// The host's initial packet sequence, from its accept.
    var hostInitialSequence: UInt32 { hostSequence }
    private let net: SimulatedNetwork
    /// What the host sent this peer, decoded.
    private(set) var received: [Packet] = []

    init(net: SimulatedNetwork, port: UInt16) throws {
        self.net = net
        address = .loopbackIPv4(port: port)
        let clientID: UInt64 = 0xBAD0_0000 + UInt64(port)
        guard case .challenge(_, let cookie) = exchange(.connectRequest(clientID: clientID)).last else {
            throw RawPeerError.handshake("no challenge")
        }
        let response = Packet.challengeResponse(clientID: clientID, cookie: cookie, initialSequence: sequence)
        guard case .accept(_, let id, let token, let hostSequence) = exchange(response).last else {
            throw RawPeerError.handshake("no accept")
        }
        connectionID = id
        self.token = token
        self.hostSequence = hostSequence
        send([])  // confirms the session
    }

    var id: ConnectionID { ConnectionID(rawValue: connectionID) }

    /// The whole sequence of one of the host's data packets to this peer (a narrow header
    /// carries its low 16 bits: the host's first 2^15 packets are near its initial sequence).
    func hostSequence(of header: Packet.DataHeader) -> UInt32 {
        expandSequence(header.sequence, bits: header.sequenceBits, near: hostSequence)
    }

    /// Sends one data packet with these frames (a fresh packet sequence), acking nothing new
    /// unless told what to ack.
    func send(_ frames: [Frame], ack: UInt32? = nil, ackBits: UInt32 = 0) {
        let header = Packet.DataHeader(token: token, sequence: sequence, ack: ack ?? hostSequence &- 1, ackBits: ackBits)
        sequence &+= 1
        _ = exchange(.data(header, frames: frames))
    }

    private func exchange(_ packet: Packet) -> [Packet] {
        net.host.receive(packet.encoded(), from: address, nowNs: net.nowNs)
        var mine: [Packet] = []
        for d in net.host.takeDatagrams() {
            if d.to == address {
                if let p = try? Packet.decode(d.bytes) { mine.append(p) }
            } else {
                net.sim.send(d.bytes, from: net.hostAddress, to: d.to, nowNs: net.nowNs)
            }
        }
        while let e = net.host.pollEvent() { net.hostEvents.append(e) }
        received += mine
        return mine
    }
}

enum RawPeerError: Error { case handshake(String) }
