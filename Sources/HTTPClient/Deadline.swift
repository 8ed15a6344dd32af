/// The time limits of one request: the idle timeout per wait, capped by what is left of the
/// total timeout. Shared by both engines so they time out the same way.
struct RequestClock: Sendable {
    let idle: Duration?
    let connect: Duration?
    let total: Duration?
    let deadline: ContinuousClock.Instant?

    init(_ configuration: HTTPClientConfiguration) {
        idle = configuration.idleTimeout
        connect = configuration.connectTimeout
        total = configuration.totalTimeout
        deadline = configuration.totalTimeout.map { ContinuousClock.now + $0 }
    }

    /// The timeout for the next wait of kind `kind` (.idle or .connect) and which error it means.
    /// - Throws: `HTTPClientError.timedOut(.total)` when the deadline has passed.
    func next(_ kind: HTTPTimeout) throws -> (limit: Duration?, meaning: HTTPTimeout) {
        let own = kind == .connect ? connect : idle
        guard let deadline, let total else { return (own, kind) }
        let left = deadline - .now
        guard left > .zero else { throw HTTPClientError.timedOut(.total, total) }
        if let own, own <= left { return (own, kind) }
        return (left, .total)
    }

    /// Maps an error from a wait made with `next(kind)`'s answer to the shared error cases.
    func wrap(_ error: any Error, _ wait: (limit: Duration?, meaning: HTTPTimeout)) -> any Error {
        let reported = wait.meaning == .total ? total : wait.limit
        return HTTPClientError.wrapping(error, timeout: wait.meaning, limit: reported)
    }
}
