// `String.trimmingTrailingSpace` as Sources/HTTPClient/Download/DownloadTypes.swift defines it,
// for the fuzz targets that compile ProxyError.swift (its descriptions use it) without that
// file, which holds the whole download API.
extension String {
    var trimmingTrailingSpace: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
