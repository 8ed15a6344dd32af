/// What every connection of one host (or a client's one) shares, made once: the configuration
/// and what follows from it. A connection holding its own copy of `GameNetConfig` paid about
/// 250 bytes for it; 1,000 idle peers are a host's common case. Immutable, so any thread.
final class ConnectionSettings: Sendable {
    let config: GameNetConfig
    /// Channel numbers by descending priority (stable: lower number first on ties).
    let sendOrder: [Int]
    /// The most packets with reliable messages in flight: every reliable channel's whole
    /// window (more could never be sent).
    let maxCongestionWindow: Int

    init(_ config: GameNetConfig) {
        self.config = config
        sendOrder = config.channels.indices.sorted {
            config.channels[$0].priority != config.channels[$1].priority
                ? config.channels[$0].priority > config.channels[$1].priority : $0 < $1
        }
        maxCongestionWindow = config.reliableWindow * max(1, config.channels.filter { $0.kind.isReliable }.count)
    }
}
