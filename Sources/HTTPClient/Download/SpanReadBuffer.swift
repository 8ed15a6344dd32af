/// The buffer a span's body is read into when its sink lends none: allocated at its first use,
/// no larger than the read could need (`capacity`, or less when the span's end is near), and
/// kept for the span's retries.
///
/// Why lazy and sized: a sink that lends buffers (netget's O_DIRECT writer) never touches it,
/// and a 100 KiB file has no use for 1 MiB.
/// One tasklet only (the span's).
final class SpanReadBuffer {
    /// The most one read may ask for (`DownloadOptions.readSize`).
    let capacity: Int
    private var storage: UnsafeMutableRawBufferPointer?

    init(capacity: Int) { self.capacity = capacity }

    /// At least `count` bytes (at most `capacity` are ever asked for): the same block while it
    /// is big enough, a larger one (the old freed) when a read needs more than the first did.
    func bytes(atLeast count: Int) -> UnsafeMutableRawBufferPointer {
        if let storage, storage.count >= count { return storage }
        storage?.deallocate()
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 4096), alignment: 64)
        storage = fresh
        return fresh
    }

    deinit { storage?.deallocate() }
}
