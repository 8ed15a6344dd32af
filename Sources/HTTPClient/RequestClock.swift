/// The time limits of one request: the idle timeout per wait, capped by what is left of the
/// total timeout and, while a head is awaited, of the head timeout. Shared by both engines so
/// they time out the same way.
struct RequestClock: Sendable {
    /// One wait's timeout (nil: none) and which limit it stands for when it passes.
    typealias Wait = (limit: Duration?, meaning: HTTPTimeout)

    let idle: Duration?
    let connect: Duration?
    let head: Duration?
    let total: Duration?
    let deadline: ContinuousClock.Instant?

    init(_ configuration: HTTPClientConfiguration) {
        idle = configuration.idleTimeout
        connect = configuration.connectTimeout
        head = configuration.headTimeout
        total = configuration.totalTimeout
        deadline = configuration.totalTimeout.map { ContinuousClock.now + $0 }
    }

    /// What is left of the total timeout (nil: none), for a wait that counts against it alone
    /// (a free connection in the pool).
    var untilDeadline: Duration? { deadline.map { max(.zero, $0 - .now) } }

    /// The error for a total timeout that passed.
    var totalTimedOut: HTTPClientError { .timedOut(.total, total ?? .zero) }

    /// When a head awaited from now on must be complete (nil: no head timeout). An exchange
    /// asks once, when its request has been sent.
    func headDeadline() -> ContinuousClock.Instant? { head.map { ContinuousClock.now + $0 } }

    /// The timeout for the next wait of kind `kind` (.idle or .connect) and which error it
    /// means: the shortest of its own limit, what is left of the total timeout, and what is
    /// left of `headDeadline` (pass it while reading a head).
    /// - Throws: `HTTPClientError.timedOut(.total)` / `.timedOut(.head)` when that deadline has passed.
    func next(_ kind: HTTPTimeout, headDeadline: ContinuousClock.Instant? = nil) throws -> (limit: Duration?, meaning: HTTPTimeout) {
        var chosen: (limit: Duration?, meaning: HTTPTimeout) = (kind == .connect ? connect : idle, kind)
        if let deadline, let total {
            let left = deadline - .now
            guard left > .zero else { throw HTTPClientError.timedOut(.total, total) }
            if chosen.limit.map({ $0 > left }) ?? true { chosen = (left, .total) }
        }
        if let headDeadline, let head {
            let left = headDeadline - .now
            guard left > .zero else { throw HTTPClientError.timedOut(.head, head) }
            if chosen.limit.map({ $0 > left }) ?? true { chosen = (left, .head) }
        }
        return chosen
    }

    /// Maps an error from a wait made with `next(kind)`'s answer to the shared error cases.
    func wrap(_ error: any Error, _ wait: (limit: Duration?, meaning: HTTPTimeout)) -> any Error {
        let reported: Duration?
        switch wait.meaning {
        case .total: reported = total
        case .head: reported = head
        default: reported = wait.limit
        }
        return HTTPClientError.wrapping(error, timeout: wait.meaning, limit: reported)
    }
}
