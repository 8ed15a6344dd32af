import NetCore
import NetTLS

/// Makes a client's TLS context on its first HTTPS request and keeps it: loading the system
/// CA store costs milliseconds, far too much per connection. Safe from any thread.
/// Its context offers "http/1.1" in ALPN (see `init`).
final class TLSContextCache: @unchecked Sendable {  // `context` guarded by `mutex`
    private let configuration: TLSConfiguration
    private let mutex = PThreadMutex()
    private var context: TLSContext?

    /// The client speaks HTTP/1.1 only, so it offers exactly that in ALPN unless the
    /// configuration lists its own protocols (a server that picks another name then gets
    /// HTTP/1.1 anyway: the configuration asked for it).
    init(_ configuration: TLSConfiguration) {
        var configuration = configuration
        if configuration.applicationProtocols.isEmpty { configuration.applicationProtocols = ["http/1.1"] }
        self.configuration = configuration
    }

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
