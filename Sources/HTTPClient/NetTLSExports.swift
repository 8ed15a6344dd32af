// TLS lives in its own module (NetTLS, over memory BIOs, no socket of its own). The client's
// public API speaks its types (`HTTPClientConfiguration.tls`, `HTTPClientError.tls`,
// `TLSStream` as a connection), so users of HTTPClient see them without a second import.
@_exported import NetTLS
