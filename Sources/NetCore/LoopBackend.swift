import CLibev
import CLibevShim

/// Which kernel interface libev uses to wait for descriptors.
///
/// `epoll` scales to many descriptors; `poll` and `select` exist for portability and for
/// testing that NetCore behaves the same on each (select is limited to descriptors below 1024).
public enum LoopBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    /// libev's recommended backend for this system (epoll on Linux).
    case automatic
    /// `select(2)`: descriptors below 1024 only.
    case select
    /// `poll(2)`.
    case poll
    /// `epoll(7)`: scales to many descriptors.
    case epoll

    /// The three concrete backends, for running the same test on each.
    public static let concrete: [LoopBackend] = [.select, .poll, .epoll]

    /// The backend's name: "automatic", "select", "poll" or "epoll".
    public var description: String { rawValue }

    var evFlags: UInt32 {
        switch self {
        case .automatic: return 0
        case .select: return cev_backend_select()
        case .poll: return cev_backend_poll()
        case .epoll: return cev_backend_epoll()
        }
    }

    init(evBackend: UInt32) {
        switch evBackend {
        case cev_backend_select(): self = .select
        case cev_backend_poll(): self = .poll
        case cev_backend_epoll(): self = .epoll
        default: self = .automatic
        }
    }
}
