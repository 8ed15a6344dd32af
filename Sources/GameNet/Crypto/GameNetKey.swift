/// A 256-bit symmetric key: a pre-shared key, the key a matchmaker and its hosts share to seal
/// connect tokens, or one of a token's per-client keys. Its description never shows the bytes.
public struct GameNetKey: Sendable, Equatable, CustomStringConvertible {
    /// Bytes in a key.
    public static let size = 32
    /// The key itself (keep it out of logs; `description` hides it).
    public let bytes: [UInt8]

    /// - Returns: nil unless `bytes` is exactly 32 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.size else { return nil }
        self.bytes = bytes
    }

    /// A fresh key from `random` (a seeded one in tests; a real key needs a secure generator).
    public static func random(using random: inout some RandomNumberGenerator) -> GameNetKey {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        while bytes.count < size { withUnsafeBytes(of: random.next()) { bytes += $0 } }
        return GameNetKey(checked: bytes)
    }

    /// A fresh key from the system's generator (getrandom(2)). Any thread.
    public static func random() -> GameNetKey {
        var system = SystemRandomNumberGenerator()
        return random(using: &system)
    }

    init(checked bytes: [UInt8]) { self.bytes = bytes }

    /// Never the key's bytes: only its size, so a log cannot leak it.
    public var description: String { "GameNetKey(32 bytes)" }
}
