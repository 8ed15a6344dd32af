/// How a TLS client checks the servers it talks to, and what it presents to them. A value;
/// make a `TLSContext` from it once and share the context between connections.
///
/// The checks run in this order during each handshake, and all that are set must pass: the
/// chain and host name (`verifyCertificates`), the pinned public keys (`pinnedPublicKeys`),
/// then `verificationHook`. With `verifyCertificates` off, pins and the hook are the only
/// checks (curl's `--pinnedpubkey` with `-k`: a self-signed server is accepted by its key).
public struct TLSConfiguration: Sendable, Hashable {
    /// Whether the server's certificate chain and host name are checked (default true).
    /// Turning it off accepts any certificate, so anyone on the path can read and change the
    /// traffic, unless a pin or the hook checks the server instead: only for tests, for hosts
    /// reached over a trusted network, or with pins.
    public var verifyCertificates: Bool
    /// A PEM file of extra trusted CA certificates (a private CA, or a self-signed server's own
    /// certificate), added to the system store when that is used too.
    public var caFile: String?
    /// Whether the system's CA store is trusted (default true).
    public var useSystemCAStore: Bool
    /// A certificate and key this client presents to servers that ask for one (mutual TLS).
    public var clientCertificate: TLSClientCertificate?
    /// The oldest protocol version the client accepts (default TLS 1.2): a server that offers
    /// only older ones fails the handshake with a `.handshakeFailed` error that names this setting.
    public var minimumVersion: TLSVersion
    /// Public keys the server must present, as curl's `--pinnedpubkey` writes them:
    /// `sha256//` and the base64 of the SHA-256 of the leaf certificate's DER
    /// SubjectPublicKeyInfo (`openssl x509 -pubkey -noout | openssl pkey -pubin -outform der |
    /// openssl dgst -sha256 -binary | base64`). The server passes when its key matches any one
    /// of them; none matching fails with `.publicKeyPinMismatch`. Empty: no pinning.
    /// An entry may hold several pins separated by ";" (curl's spelling).
    public var pinnedPublicKeys: [String]
    /// The ALPN protocol names offered in the ClientHello, most preferred first ("http/1.1");
    /// empty offers none. The HTTP client offers "http/1.1" when this is empty.
    public var applicationProtocols: [String]
    /// A check of the caller's own, run after the others (see the type's note), or nil.
    public var verificationHook: TLSVerificationHook?

    /// A configuration; the defaults verify against the system's CA store, present no client
    /// certificate, accept TLS 1.2 and 1.3, pin nothing and offer no ALPN protocol.
    public init(
        verifyCertificates: Bool = true, caFile: String? = nil, useSystemCAStore: Bool = true,
        clientCertificate: TLSClientCertificate? = nil, minimumVersion: TLSVersion = .tls12, pinnedPublicKeys: [String] = [],
        applicationProtocols: [String] = [], verificationHook: TLSVerificationHook? = nil
    ) {
        self.verifyCertificates = verifyCertificates
        self.caFile = caFile
        self.useSystemCAStore = useSystemCAStore
        self.clientCertificate = clientCertificate
        self.minimumVersion = minimumVersion
        self.pinnedPublicKeys = pinnedPublicKeys
        self.applicationProtocols = applicationProtocols
        self.verificationHook = verificationHook
    }
}

/// A TLS protocol version, for `TLSConfiguration.minimumVersion` and test servers' caps.
public enum TLSVersion: Sendable, Hashable, CustomStringConvertible {
    /// TLS 1.2 (RFC 5246): the default minimum, and the oldest version offered at all.
    case tls12
    /// TLS 1.3 (RFC 8446).
    case tls13

    /// OpenSSL's number for it (`TLS1_2_VERSION`, `TLS1_3_VERSION`).
    var openSSLValue: Int32 {
        switch self {
        case .tls12: return 0x0303
        case .tls13: return 0x0304
        }
    }

    /// "TLS 1.2" or "TLS 1.3".
    public var description: String {
        switch self {
        case .tls12: return "TLS 1.2"
        case .tls13: return "TLS 1.3"
        }
    }
}

/// A client certificate (or chain, leaf first) and its private key, both PEM files.
public struct TLSClientCertificate: Sendable, Hashable {
    /// The PEM certificate chain, leaf first.
    public var certificateFile: String
    /// The PEM private key of the leaf, encrypted or not.
    public var privateKeyFile: String
    /// The passphrase of an encrypted key; nil for a key in the clear (an encrypted key then
    /// fails to load with a `.configuration` error instead of prompting on a terminal).
    public var privateKeyPassphrase: String?

    /// A certificate and key; making the context checks that the key matches the certificate.
    public init(certificateFile: String, privateKeyFile: String, privateKeyPassphrase: String? = nil) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.privateKeyPassphrase = privateKeyPassphrase
    }
}

/// What a verification hook decided.
public enum TLSVerificationVerdict: Sendable, Equatable {
    /// Accept the server: the handshake completes (the checks before the hook have passed already).
    case accept
    /// Refuse the server; `reason` goes into the `.rejectedByVerificationHook` error.
    case reject(reason: String)
}

/// The caller's own check of a server, given the certificates it presented (DER, leaf first,
/// as sent: not necessarily a verified chain) and the host name or address connected to.
///
/// It runs once per new connection, inside the handshake step that completes it, on the
/// thread driving that handshake: the loop's thread for a tasklet (`TLSStream`, the HTTP
/// client's `.loop` engine), the calling worker thread for `BlockingTLSStream` (`.workers`).
/// It must be quick and must not block: on a loop it holds every tasklet of that loop.
/// Pooled connections do not run it again when reused.
///
/// Two configurations compare equal only with the same hook object.
public final class TLSVerificationHook: Sendable, Hashable {
    /// The check: (peer certificates in DER, leaf first; the server name) -> verdict.
    public let check: @Sendable (_ certificates: [[UInt8]], _ serverName: String) -> TLSVerificationVerdict

    /// A hook that runs `check` (see the type's thread rule).
    public init(_ check: @escaping @Sendable (_ certificates: [[UInt8]], _ serverName: String) -> TLSVerificationVerdict) {
        self.check = check
    }

    /// The same hook object (closures cannot be compared).
    public static func == (a: TLSVerificationHook, b: TLSVerificationHook) -> Bool { a === b }
    /// Hashes the object's identity, as `==` compares it.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
