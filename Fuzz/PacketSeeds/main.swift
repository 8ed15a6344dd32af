// Writes the seed corpus of the gamenet-packet fuzz target: one valid datagram per packet type
// and data-packet shape, encoded by the real encoder (scripts/gamenet-packet-seeds.sh compiles
// this with Sources/GameNet/Wire/*.swift), so the seeds follow the wire format when it changes.
import Foundation

let directory = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Fuzz/corpus-gamenet-packet"
let cookie = Packet.Cookie(expiresNs: 123_456_789, mac: 0xDEAD_BEEF)
let token = Packet.SealedToken(
    protocolID: 0x6A6D_6531, expiresAtUnixSeconds: 0x6B49_0000, sealed: (0..<UInt8(Packet.sealedTokenSize)).map { $0 &* 37 })
let narrow = Packet.DataHeader(token: 0x63, sequence: 0x0005, ack: 0xFFFF, ackBits: 0x0B, isWide: false)
let wide = Packet.DataHeader(token: 0x63, sequence: 0x8000_0005, ack: 0x7FFF_FFFF, ackBits: 0x0B)
let seeds: [(String, Packet)] = [
    ("connect-request", .connectRequest(clientID: 0x1122_3344_5566_7788)),
    ("challenge", .challenge(clientID: 0x1122_3344_5566_7788, cookie: cookie)),
    ("challenge-response", .challengeResponse(clientID: 0x1122_3344_5566_7788, cookie: cookie, initialSequence: 0xFFFF_FFFE)),
    ("accept", .accept(clientID: 0x1122_3344_5566_7788, connectionID: 0x2A, token: 0x63, initialSequence: 4)),
    ("reject", .reject(clientID: 0x1122_3344_5566_7788, reason: .hostFull)),
    ("data-empty", .data(narrow, frames: [])),
    ("data-ping", .data(narrow, frames: [.ping])),
    (
        "data-frames",
        .data(
            narrow,
            frames: [
                .message(channel: 0, sequence: 3, payload: Array("hello".utf8)),
                .fragment(channel: 1, sequence: 9, index: 1, count: 3, payload: [1, 2, 3, 4]),
                .disconnect(reason: 1),
                .message(channel: 2, sequence: 0xFFFF, payload: [7, 7, 7]),
            ])
    ),
    ("data-wide", .data(wide, frames: [.fragment(channel: 0, sequence: 2, index: 2, count: 3, payload: [9, 9])])),
    ("token-request", .tokenRequest(clientID: 0x4D, token: token)),
    ("token-response", .tokenResponse(clientID: 0x4D, cookie: cookie, initialSequence: 7, token: token)),
    ("sealed-reply", .sealedReply(clientID: 0x4D, box: (0..<UInt8(12 + 29 + 16)).map { $0 &* 91 &+ 18 })),
]
for (name, packet) in seeds {
    let bytes = packet.encoded()
    guard (try? Packet.decode(bytes)) == packet else { fatalError("\(name) does not decode to itself") }
    guard FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data(bytes)) else {
        fatalError("cannot write \(directory)/\(name)")
    }
}
print("wrote \(seeds.count) seeds to \(directory)")
