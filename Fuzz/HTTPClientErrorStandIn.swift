// The cases of `HTTPClientError` that the decoders compiled into a fuzz target throw. The real
// enum (Sources/HTTPClient/HTTPClientError.swift) wraps every module's errors (TLS, resolver,
// content decoding) and so cannot be compiled alone; a decoder that threw another case would
// not compile here, so this list cannot silently fall behind.
enum HTTPClientError: Error, Equatable {
    case invalidURL(String, reason: String)
    case unsupportedScheme(String)
    case invalidRequest(String)
    case invalidContentRange(String)
}
