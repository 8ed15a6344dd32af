// What every name DownloadFileName gives must be, checked by both name fuzz targets
// (scripts/fuzz.sh file-name, content-disposition). Standard library only.

/// Traps (a libFuzzer crash) when `name` breaks a rule of DownloadFileName's documentation.
func checkCleanName(_ name: String?, maxBytes: Int, from input: String) {
    guard let name else { return }
    let scalars = Array(name.unicodeScalars)
    require(!scalars.isEmpty, "empty name from \(input.debugDescription)")
    require(name != "." && name != "..", "\(name.debugDescription) from \(input.debugDescription)")
    require(name.utf8.count <= maxBytes, "\(name.utf8.count) bytes > \(maxBytes) from \(input.debugDescription)")
    for scalar in scalars {
        require(scalar != "/" && scalar != "\\", "a separator in \(name.debugDescription)")
        require(!isForbidden(scalar), "U+\(String(scalar.value, radix: 16)) in \(name.debugDescription)")
    }
    let first = scalars[0]
    let last = scalars[scalars.count - 1]
    require(
        first != "." && first != "-" && !first.properties.isWhitespace,
        "leading \(first.escaped(asASCII: true)) in \(name.debugDescription)")
    require(!last.properties.isWhitespace, "trailing whitespace in \(name.debugDescription)")
    let again = DownloadFileName.safe(name, maxBytes: maxBytes)
    require(
        again.map { Array($0.utf8) } == Array(name.utf8),
        "not idempotent: \(name.debugDescription) -> \(again.debugDescription) from \(input.debugDescription)")
}

/// `precondition` that prints its message in -O builds too, so a crash says which rule broke.
func require(_ condition: Bool, _ message: @autoclosure () -> String = "") {
    if !condition { fatalError(message()) }
}

/// The scalars the rules forbid, listed here independently of DownloadFileName.isRemoved.
private func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F: return true  // C0, DEL, C1
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidi controls
    case 0xFEFF, 0x200B, 0x2028, 0x2029, 0x00AD, 0x2060...0x2064, 0xE0000...0xE007F: return true
    default: return false
    }
}
