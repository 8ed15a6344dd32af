import NetCore

/// Where the game client's threads run: the game thread alone on one CPU, and every other thread
/// of ours (workers, stand-in servers) on the rest, as game engines reserve a core for the game
/// thread. Without it the scheduler often wakes a server or worker thread on the game thread's
/// core while the other core idles, and the game thread waits for its core mid-frame.
struct ThreadPlacement {
    /// The CPU the game (main) thread is pinned to.
    let gameCPU: Int
    /// The CPUs of the worker pool, the test server and the peers' thread.
    let otherCPUs: [Int]

    /// The first of `allowed` for the game thread, the others for the rest; nil when fewer than
    /// two CPUs are allowed (nothing to reserve).
    init?(allowed: [Int]) {
        guard allowed.count >= 2, let first = allowed.first else { return nil }
        gameCPU = first
        otherCPUs = Array(allowed.dropFirst())
    }

    var description: String {
        let others = otherCPUs.map(String.init).joined(separator: ", ")
        return "game thread on CPU \(gameCPU); workers and stand-in servers on CPUs \(others)"
    }
}
