import NetCore

/// A user name and password for HTTP Basic authentication (RFC 7617), from a URL's userinfo,
/// the caller, or `.netrc`. Sent only where the request's `CredentialScope` allows
/// `Authorization`: the origin the user named.
///
/// Its `description` never shows the password, so a credential in a log line or an error
/// message leaks nothing.
public struct HTTPCredential: Sendable, Hashable, CustomStringConvertible {
    /// The user name; has no colon when made by the initializers.
    public var user: String
    /// The password, any characters but controls; never shown by `description`.
    public var password: String

    /// - Throws: `HTTPClientError.invalidRequest` when `user` has a colon (Basic cannot carry
    ///   it: RFC 7617 §2) or either part has a control character (CR, LF or NUL would end the
    ///   header).
    public init(user: String, password: String) throws {
        guard !user.contains(":") else { throw HTTPClientError.invalidRequest("a Basic user name cannot contain ':'") }
        guard !(user + password).unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HTTPClientError.invalidRequest("a credential cannot contain control characters")
        }
        self.user = user
        self.password = password
    }

    /// Parses curl's `-u` form, "user:password" (split at the first colon; a password may hold
    /// colons). - Throws: as `init(user:password:)`; `.invalidRequest` without a colon.
    public init(userColonPassword text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw HTTPClientError.invalidRequest("a credential is USER:PASSWORD (no ':' in it)")
        }
        try self.init(user: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    /// The `Authorization` value: "Basic " and base64 of "user:password" in UTF-8 (RFC 7617 §2.1).
    public var basicAuthorization: String { "Basic " + Base64.encode(Array((user + ":" + password).utf8)) }

    /// The user name, quoted, and `<hidden>` in place of the password: safe to log.
    public var description: String { "HTTPCredential(user: \(user.debugDescription), password: <hidden>)" }
}
