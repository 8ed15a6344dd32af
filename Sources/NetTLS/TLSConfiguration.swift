/// How a TLS client checks the servers it talks to. A value; make a `TLSContext` from it once
/// and share the context between connections.
public struct TLSConfiguration: Sendable, Hashable {
    /// Whether the server's certificate chain and host name are checked (default true).
    /// Turning it off accepts any certificate, so anyone on the path can read and change the
    /// traffic: only for tests and for hosts reached over a trusted network.
    public var verifyCertificates: Bool
    /// A PEM file of extra trusted CA certificates (a private CA, or a self-signed server's own
    /// certificate), added to the system store when that is used too.
    public var caFile: String?
    /// Whether the system's CA store is trusted (default true).
    public var useSystemCAStore: Bool

    /// A configuration; the defaults verify against the system's CA store.
    public init(verifyCertificates: Bool = true, caFile: String? = nil, useSystemCAStore: Bool = true) {
        self.verifyCertificates = verifyCertificates
        self.caFile = caFile
        self.useSystemCAStore = useSystemCAStore
    }
}
