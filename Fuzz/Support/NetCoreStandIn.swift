// The module `NetCore` as the fuzz targets that need it see it (scripts/fuzz.sh builds it from
// this file and Sources/NetCore/Base64.swift alone): the real NetCore wraps the loop, sockets
// and the Linux shim, none of which a decoder touches. Only what a fuzzed decoder reads is here,
// computed as NetCore computes it.

#if canImport(Glibc)
    import Glibc
#endif

/// The one member of NetCore's `SocketAddress` that `HTTPURL` reads.
public enum SocketAddress {
    /// The longest Unix socket path, in bytes: `sun_path` holds 108 with the closing NUL.
    public static let maxUnixPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
}
