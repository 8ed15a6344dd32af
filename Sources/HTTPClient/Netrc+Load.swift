import NetCore

#if canImport(Glibc)
    import Glibc
#endif

// Reading a .netrc from disk, and its entries as credentials: apart from HTTPCredential.swift
// so that it needs nothing of NetCore but Base64 (scripts/fuzz.sh http-url, proxy-handshake).
extension Netrc {
    /// curl's order: `$NETRC`, else `$HOME/.netrc`; nil when neither is set.
    public static var defaultPath: String? {
        if let path = getenv("NETRC") { return String(cString: path) }
        return getenv("HOME").map { String(cString: $0) + "/.netrc" }
    }

    /// Reads and parses the file at `path` (at most 1 MiB; blocking reads, for start-up).
    /// - Throws: `HTTPClientError.invalidRequest` naming the path and the system error, or the
    ///   `NetrcError` of a file that is not a `.netrc`.
    public static func load(path: String) throws -> Netrc {
        guard let bytes = FileSystemCalls.readSmallFile(path, limit: 1 << 20) else {
            throw HTTPClientError.invalidRequest("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return try Netrc(parsing: bytes)
    }

    /// The credential for `host` (and `login`, when the URL named a user without a password),
    /// if the entry has both a login and a password.
    public func credential(forHost host: String, login: String? = nil) -> HTTPCredential? {
        guard let entry = entry(forHost: host, login: login), let user = entry.login, let password = entry.password else {
            return nil
        }
        return try? HTTPCredential(user: user, password: password)
    }
}
