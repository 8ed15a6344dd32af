import CLinuxShim

#if canImport(Glibc)
    import Glibc
#endif

/// Linux file calls that Swift cannot make directly (they need `_GNU_SOURCE` or are macros),
/// for the modules above NetCore (netget's part files). Each is one system call (two for
/// `renameNoReplace` on a file system without `RENAME_NOREPLACE`); none blocks longer than
/// the call itself does. Any thread.
public enum FileSystemCalls {
    /// The `O_DIRECT` open flag (its value differs between architectures).
    public static var directIOFlag: Int32 { cln_o_direct() }

    /// `sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)`: starts writing a range of
    /// the file back to disk without waiting for it. `length` 0 means to the end of the file.
    /// - Returns: 0, or -1 with `errno` set.
    @discardableResult
    public static func startWriteback(fd: Int32, offset: Int64 = 0, length: Int64 = 0) -> Int32 {
        cln_start_writeback(fd, offset, length)
    }

    /// `fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, length)`: reserves the file's blocks without
    /// changing its size, so that a long download does not fragment or run out of space midway.
    /// - Returns: 0, or -1 with `errno` set (`EOPNOTSUPP` on file systems without it).
    @discardableResult
    public static func reserveSpace(fd: Int32, length: Int64) -> Int32 {
        cln_reserve_space(fd, length)
    }

    /// Renames `from` to `to` unless `to` exists (`renameat2` with `RENAME_NOREPLACE`; where the
    /// file system cannot, `link` then `unlink`, which never replaces either).
    /// - Returns: 0, or -1 with `errno` set (`EEXIST` when `to` exists).
    public static func renameNoReplace(from: String, to: String) -> Int32 {
        cln_rename_noreplace(from, to)
    }

    /// `lseek(fd, 0, SEEK_HOLE)`: the offset of the file's first hole (its size when it has none).
    /// - Returns: the offset, or -1 with `errno` set.
    public static func firstHole(fd: Int32) -> Int64 {
        Int64(cln_first_hole(fd))
    }

    /// `fsetxattr(fd, name, value, size, 0)`: sets the extended attribute `name` (a `user.`
    /// one, say) of an open file. One system call.
    /// - Returns: 0, or -1 with `errno` set (`ENOTSUP` where the file system keeps no user
    ///   attributes, as tmpfs before Linux 6.6; callers that only keep a hint ignore it).
    @discardableResult
    public static func setExtendedAttribute(fd: Int32, name: String, value: [UInt8]) -> Int32 {
        value.withUnsafeBytes { cln_set_xattr(fd, name, $0.baseAddress, UInt($0.count)) }
    }

    /// `lgetxattr(path, name, ...)`: the extended attribute `name` of `path` (a symbolic link's
    /// own, never its target's). One system call.
    /// - Returns: its bytes, or nil with `errno` set (`ENODATA` when it is not set, `ERANGE`
    ///   when it is longer than `limit`, `ENOTSUP` where the file system has none).
    public static func extendedAttribute(path: String, name: String, limit: Int = 4096) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: max(1, limit))
        let count = bytes.withUnsafeMutableBytes { cln_get_xattr(path, name, $0.baseAddress, UInt($0.count)) }
        guard count >= 0 else { return nil }
        return Array(bytes[0..<Int(count)])
    }

    /// `fremovexattr(fd, name)`. One system call.
    /// - Returns: 0, or -1 with `errno` set (`ENODATA` when it was not set).
    @discardableResult
    public static func removeExtendedAttribute(fd: Int32, name: String) -> Int32 {
        cln_remove_xattr(fd, name)
    }

    /// The whole content of a small file (a configuration or `.netrc`), read with blocking
    /// calls: for start-up, not for a loop thread in the middle of its work.
    /// - Returns: its bytes, or nil with `errno` set (`EFBIG` when it holds more than `limit`).
    public static func readSmallFile(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= limit else {
                errno = EFBIG
                return nil
            }
        }
    }
}
