#if canImport(Glibc)
    import Glibc
#endif

/// This process's resident memory in bytes (the second field of /proc/self/statm, in pages);
/// 0 when it cannot be read.
///
/// The one RSS reader of the test targets: tests that check memory stays flat compare two reads.
public func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0
    var resident = 0
    _ = withUnsafeMutablePointer(to: &size) { sizePointer in
        withUnsafeMutablePointer(to: &resident) { residentPointer in
            withVaList([sizePointer, residentPointer]) { vfscanf(file, "%ld %ld", $0) }
        }
    }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}
