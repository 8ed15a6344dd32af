/// netcode.io's replay protection: the packet counters seen among the newest 256. A counter
/// older than that window, or already in it, is a replay (or hopelessly late) and its packet is
/// dropped. Checked before the packet is opened (cheap) and recorded only once it has opened
/// (so a forged packet cannot take a slot). Pure; 2 KiB.
struct ReplayWindow {
    static let size = 256
    private var seen = [UInt64](repeating: .max, count: size)
    private(set) var newest: UInt64?

    /// Whether `counter` was seen already or is older than the window.
    func isReplay(_ counter: UInt64) -> Bool {
        if let newest, counter &+ UInt64(Self.size) <= newest { return true }
        return seen[Int(counter % UInt64(Self.size))] == counter
    }

    mutating func record(_ counter: UInt64) {
        if newest.map({ counter > $0 }) ?? true { newest = counter }
        seen[Int(counter % UInt64(Self.size))] = counter
    }
}
