import HTTPClient

/// netget's names for downloads: `DownloadFileName`'s rules (HTTPClient), with room left for
/// the suffixes netget adds to a name on disk, so that NAME.part.meta.tmp and NAME.N still fit
/// in Linux's 255-byte NAME_MAX. Pure functions: any thread.
enum FileNaming {
    /// The longest suffix netget appends: ".part.meta.tmp" (14 bytes) after a collision suffix
    /// ".N" from `claim` (up to 10 bytes for N < 10^9).
    static let suffixRoom = 24

    /// A safe name from the URL's last path segment (percent-decoded), or nil.
    static func name(for url: HTTPURL) -> String? {
        DownloadFileName.name(forURLPath: url.path, maxBytes: DownloadFileName.maxBytes - suffixRoom)
    }

    /// A safe name from a name the server suggested, or nil when nothing usable is left.
    static func safe(_ proposed: String) -> String? {
        DownloadFileName.safe(proposed, maxBytes: DownloadFileName.maxBytes - suffixRoom)
    }
}
