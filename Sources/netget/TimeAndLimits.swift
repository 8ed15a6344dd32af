import HTTPClient
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// What the run does with file times (issue 15 point 5): the Last-Modified as mtime, and -N.
struct Timing {
    /// Set the file's mtime from Last-Modified (wget's default); false with --no-remote-time.
    var remoteTime = true
    /// -N: ask the server whether the file on disk is current before fetching it again.
    var timestamping = false
}

extension Plan {
    /// Checks -N, --no-remote-time, --speed-limit/--speed-time, --max-time and --max-filesize
    /// and puts them into `timing`, `download` and `client`.
    /// - Throws: `UsageError` naming the option.
    mutating func applyTimeAndLimits(_ command: NetgetCommand) throws {
        timing = Timing(remoteTime: !command.noRemoteTime, timestamping: command.timestamping)
        if command.timestamping && toStandardOutput {
            throw UsageError("-N compares with the file on disk, but -o - writes no file")
        }
        if command.timestamping && command.noClobber {
            throw UsageError("-N and --no-clobber conflict: -N may replace the file, --no-clobber never does (as wget says)")
        }
        if command.speedLimit != nil || command.speedTime != nil {
            // curl's rules: -y alone means a floor of 1 B/s, -Y alone a window of 30 s.
            var floor = 1
            if let text = command.speedLimit {
                guard let value = Self.parseRate(text) else {
                    throw UsageError("--speed-limit takes bytes per second from 1 to 1T, such as 1000 or 10K, not \(text.debugDescription)")
                }
                floor = value
            }
            let window = try Self.seconds("--speed-time", command.speedTime ?? 30, in: 0.01...Self.maxSeconds)
            if let rate = download.rateLimit, rate < floor {
                throw UsageError("--limit-rate \(rate) B/s is below --speed-limit \(floor) B/s: every download would fail as too slow")
            }
            download.speedLimit = SpeedLimit(bytesPerSecond: floor, window: window)
            // A read that waits a whole window means nothing came in it: too slow, so the idle
            // timeout must not wait longer than the window to say so.
            client.idleTimeout = min(client.idleTimeout ?? window, window)
        }
        if let seconds = command.maxTime {
            download.maxTime = try Self.seconds("--max-time", seconds, in: 0.001...Self.maxSeconds)
        }
        if let text = command.maxFilesize {
            guard let value = Self.parseRate(text) else {
                throw UsageError("--max-filesize takes a size from 1 byte to 1T, such as 500K, 2M or 1G, not \(text.debugDescription)")
            }
            download.maxFileSize = UInt64(value)
        }
    }
}

/// The file on disk that -N compares with, and the facts kept with a finished download for
/// the next -N: the server's Last-Modified as the file's mtime, its ETag in an extended
/// attribute.
///
/// Why an extended attribute (`user.netget.etag`) and not a sidecar file: it lives and dies
/// with the file itself (a rename, `mv`, `cp -a` and `rsync -X` carry it; deleting the file
/// deletes it), leaves no extra file in the user's directory, and needs no second atomic
/// write. It is only a hint: it records the file's size and mtime beside the tag, and a file
/// that no longer has them (edited, or replaced by another tool that kept the attribute) is
/// asked about by date instead. Where the file system keeps no user attributes (tmpfs before
/// Linux 6.6, some network file systems) nothing is stored and -N asks with If-Modified-Since
/// from the mtime: never a failure.
enum KeptValidators {
    static let attributeName = "user.netget.etag"

    /// The condition for -N on the file at `path`: its kept ETag when the attribute still
    /// matches the file, else its mtime; nil when there is no regular file there (a plain
    /// download then).
    static func condition(forFileAt path: String) -> DownloadCondition? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        if let bytes = FileSystemCalls.extendedAttribute(path: path, name: attributeName),
            let tag = tag(in: String(decoding: bytes, as: UTF8.self), size: UInt64(info.st_size), mtime: Int64(info.st_mtim.tv_sec))
        {
            return .ifNoneMatch(tag)
        }
        return .ifModifiedSince(Int64(info.st_mtim.tv_sec))
    }

    /// The tag of an attribute value "SIZE MTIME TAG" if SIZE and MTIME are the file's.
    static func tag(in value: String, size: UInt64, mtime: Int64) -> String? {
        let parts = value.split(separator: " ", maxSplits: 2)
        guard parts.count == 3, UInt64(parts[0]) == size, Int64(parts[1]) == mtime, !parts[2].isEmpty else { return nil }
        return String(parts[2])
    }

    /// Before the rename of a finished file (the rename keeps both): its mtime from
    /// `lastModified` when `remoteTime` and the date parses (else left as the download's time),
    /// and `etag` with the resulting size and mtime in the attribute (an old one removed when
    /// there is no tag). Best effort: a failure to set either is ignored (the file is complete).
    static func record(fd: Int32, lastModified: String?, etag: String?, remoteTime: Bool) {
        if remoteTime, let seconds = lastModified.flatMap(HTTPDate.parse) {
            // atime: now, as wget does; mtime: the server's.
            // UTIME_NOW is a macro Swift cannot see: (1 << 30) - 1 in <sys/stat.h> on Linux.
            var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1), timespec(tv_sec: time_t(seconds), tv_nsec: 0)]
            _ = futimens(fd, &times)
        }
        var info = stat()
        guard let etag, !etag.isEmpty, etag.utf8.count < 1024, fstat(fd, &info) == 0 else {
            FileSystemCalls.removeExtendedAttribute(fd: fd, name: attributeName)
            return
        }
        let value = "\(info.st_size) \(info.st_mtim.tv_sec) \(etag)"
        FileSystemCalls.setExtendedAttribute(fd: fd, name: attributeName, value: Array(value.utf8))
    }
}
