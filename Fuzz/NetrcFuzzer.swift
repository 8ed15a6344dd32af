// libFuzzer target for the `.netrc` parser (Sources/HTTPClient/Netrc.swift, compiled alone):
// any bytes either parse or throw NetrcError, never crash or hang; a parse gives entries whose
// lookups are consistent (the entry found for a host is one of the parsed entries).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetrc(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let netrc = try? Netrc(parsing: bytes) else { return 0 }
    for entry in netrc.entries {
        guard let machine = entry.machine else { continue }
        guard let found = netrc.entry(forHost: machine) else { fatalError("no entry for a parsed machine \(machine)") }
        guard netrc.entries.contains(found) else { fatalError("lookup returned an entry that was not parsed") }
    }
    return 0
}
