import HTTPClient

/// netget's names for downloads: `DownloadFileName`'s rules (HTTPClient). Pure functions: any thread.
enum FileNaming {
    /// A safe name from the URL's last path segment (percent-decoded), or nil.
    static func name(for url: HTTPURL) -> String? {
        DownloadFileName.name(forURLPath: url.path)
    }

    /// A safe name from a name the server suggested, or nil when nothing usable is left.
    static func safe(_ proposed: String) -> String? {
        DownloadFileName.safe(proposed)
    }
}
