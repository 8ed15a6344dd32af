// soak: hours of long downloads through both engines with faults, proving that no byte is
// lost, duplicated, reordered or wrong and that memory and descriptors do not grow.
//   soak --duration 60                 # CI's run: a minute with faults on
//   soak --duration 3600 --downloads 6 # an hour-long one
// Exit status 0 only if every check held; the report goes to the terminal, soak-report.json
// and soak-report.html (self-contained, SVG charts).
#if canImport(Glibc)
    import Glibc
#endif

guard let options = SoakOptions.parse(Array(CommandLine.arguments.dropFirst())) else { exit(2) }
do {
    print(
        "soak: \(Int(options.duration)) s, \(options.concurrent) downloads at once (both engines), fault rate \(options.faultRate), seed \(options.seed)"
    )
    let report = try SoakRunner(options: options).run()
    print(report.summary)
    writeFile(options.jsonPath, report.json + "\n")
    writeFile(options.htmlPath, report.html + "\n")
    print("soak: report written to \(options.jsonPath) and \(options.htmlPath)")
    exit(report.passed ? 0 : 1)
} catch {
    printError("soak: cannot start: \(error)")
    exit(1)
}

func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else {
        printError("soak: cannot write \(path): \(String(cString: strerror(errno)))")
        return
    }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
}
