// game-server: the stand-in game server of `game-client --gamenet` as a process of its own
// (GameProtocol over GameNet on 127.0.0.1): the level snapshot to each client that connects,
// state at 20 Hz, chat echoed. Runs until killed.
//   swift run -c release game-server [PORT] [SEED]      (defaults 40017 and 60)
import GameStandIn
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

let port = UInt16(CommandLine.arguments.dropFirst().first ?? "40017") ?? 40_017
let seed = UInt64(CommandLine.arguments.dropFirst(2).first ?? "60") ?? 60
let server = try StandInGameServer(port: port, seed: seed)
print("game-server: GameNet on \(server.address), level seed \(seed)")
while true { sleep(3_600) }
