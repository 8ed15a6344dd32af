// netget: the download CLI. Parses the command line (swift-argument-parser), checks it
// (usage errors exit 2), and runs the downloads on a NetCore loop (Runner).
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

let command: NetgetCommand
do {
    // The command line alone first (for --config and --no-config), then after the config
    // files' options, so that its own win.
    let arguments = Array(CommandLine.arguments.dropFirst())
    let given = try NetgetCommand.parse(arguments)
    let configured = try ConfigFile.arguments(explicit: given.configFiles, readDefault: !given.noConfig)
    command = configured.isEmpty ? given : try NetgetCommand.parse(configured + arguments)
} catch let error as UsageError {
    writeStandardError("netget: \(error) (see netget --help)\n")
    exit(2)
} catch {
    // --help and --version come here too, with a success status.
    if NetgetCommand.exitCode(for: error) == .success {
        writeStandardOutput(NetgetCommand.fullMessage(for: error) + "\n")
        exit(0)
    }
    writeStandardError("netget: \(NetgetCommand.message(for: error)) (see netget --help)\n")
    exit(2)
}

do {
    let plan = try Plan(command)
    exit(try Runner(plan: plan).run())
} catch let error as UsageError {
    writeStandardError("netget: \(error) (see netget --help)\n")
    exit(2)
} catch {
    writeStandardError("netget: \(error)\n")
    exit(1)
}
