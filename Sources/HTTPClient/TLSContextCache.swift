import NetCore
import NetTLS

/// Makes a client's TLS context on its first HTTPS request and keeps it: loading the system
/// CA store costs milliseconds, far too much per connection. Safe from any thread.
final class TLSContextCache: @unchecked Sendable {  // `context` guarded by `mutex`
    private let configuration: TLSConfiguration
    private let mutex = PThreadMutex()
    private var context: TLSContext?

    init(_ configuration: TLSConfiguration) { self.configuration = configuration }

    /// - Throws: `HTTPClientError.tls` (`.configuration`, e.g. an unreadable CA file).
    func get() throws -> TLSContext {
        try mutex.withLock {
            if let context { return context }
            do {
                let made = try TLSContext.client(configuration)
                context = made
                return made
            } catch let error as TLSError {
                throw HTTPClientError.tls(error)
            }
        }
    }
}
