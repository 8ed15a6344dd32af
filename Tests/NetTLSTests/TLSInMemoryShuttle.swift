import HTTPTestServer
import NetCore
import NetTLS
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Support for this target's suites: moving ciphertext between two TLS machines in memory
// (the certificates and the loop runner are in TestSupport).

/// Moves every byte of ciphertext `from` has to send into `to`; returns the count.
@discardableResult
func shuttle(from: TLSMachine, to: TLSMachine) throws -> Int {
    var buffer = [UInt8](repeating: 0, count: 32 << 10)
    var moved = 0
    while true {
        let n = buffer.withUnsafeMutableBytes { from.takeCiphertext(into: $0) }
        if n == 0 { return moved }
        try buffer.withUnsafeBytes { try to.receivedCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        moved += n
    }
}

/// Runs both handshakes to the end, moving each flight across in memory.
/// - Throws: the first step's error (the client's is tried first each round).
func handshakeInMemory(client: TLSMachine, server: TLSMachine) throws {
    for _ in 0..<10 {
        let clientStep = try client.handshake()
        try shuttle(from: client, to: server)
        let serverStep = try server.handshake()
        try shuttle(from: server, to: client)
        if clientStep == .done(0), serverStep == .done(0) { return }
    }
    throw TestFailure("the handshake did not finish in 10 rounds")
}

/// Writes all of `bytes` into `machine` (ciphertext piles up in it until shuttled).
func writeAll(_ machine: TLSMachine, _ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count { offset += try machine.write(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
    }
}

/// Reads what `machine` can decrypt now, until it needs ciphertext or the stream ends.
/// - Returns: the bytes, and whether the end of the stream was reached.
func readAvailable(_ machine: TLSMachine) throws -> (bytes: [UInt8], ended: Bool) {
    var buffer = [UInt8](repeating: 0, count: 16 << 10)
    var got: [UInt8] = []
    while true {
        let step = try buffer.withUnsafeMutableBytes { try machine.read(into: $0) }
        switch step {
        case .needsCiphertext: return (got, false)
        case .done(0): return (got, true)
        case .done(let n): got += buffer[0..<n]
        }
    }
}
