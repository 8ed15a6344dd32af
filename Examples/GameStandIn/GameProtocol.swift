import GameNet

/// What the example game and its stand-in server say to each other over GameNet: three
/// channels, a level snapshot, state ticks and chat. Shared by `game-server`, `game-client
/// --gamenet` and the end-to-end test, so that all three agree byte for byte.
public enum GameProtocol {
    /// Chat lines, reliable-ordered, first priority: a chat line never waits behind the level.
    public static let chatChannel = 0
    /// The level snapshot (`levelSize` bytes, fragmented), reliable-ordered, last priority.
    public static let levelChannel = 1
    /// State sync at 20 Hz, unreliable-sequenced: the newest wins, an older one is dropped.
    public static let stateChannel = 2
    public static let levelSize = 200_000
    public static let stateSize = 32
    /// Both ends send state every 50 ms (20 Hz).
    public static let stateIntervalNs: Int64 = 50_000_000

    /// GameNet's defaults with the game's three channels.
    public static var config: GameNetConfig {
        var config = GameNetConfig()
        config.channels = [
            ChannelConfig(.reliableOrdered, priority: 2), ChannelConfig(.reliableOrdered, priority: 0),
            ChannelConfig(.unreliableSequenced, priority: 1),
        ]
        return config
    }

    /// The level snapshot the server sends each client once it connects: `levelSize` bytes
    /// that depend on `seed` and on their offset, so that any byte out of place shows.
    public static func level(seed: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: levelSize)
        var x = seed | 1
        for i in bytes.indices {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            bytes[i] = UInt8(truncatingIfNeeded: x)
        }
        return bytes
    }

    /// One state update: the sender's tick (little-endian) and filler (positions, say).
    public static func state(tick: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: stateSize)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: tick >> UInt64(8 * i)) }
        for i in 8..<stateSize { bytes[i] = UInt8(truncatingIfNeeded: tick &+ UInt64(i)) }
        return bytes
    }

    /// The tick of a state update, or nil when it is not one.
    public static func tick(of bytes: [UInt8]) -> UInt64? {
        guard bytes.count == stateSize else { return nil }
        var tick: UInt64 = 0
        for i in 0..<8 { tick |= UInt64(bytes[i]) << UInt64(8 * i) }
        return tick
    }

    /// The server's answer to a chat line: "echo: " and the line.
    public static func echo(of line: [UInt8]) -> [UInt8] { Array("echo: ".utf8) + line }

    /// The client's chat line number `n`.
    public static func chatLine(_ n: Int) -> [UInt8] { Array("player1: hello \(n)".utf8) }
}
