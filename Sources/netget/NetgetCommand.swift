import ArgumentParser

/// The command line, as swift-argument-parser reads it. `Plan` turns it into checked settings.
@dynamicMemberLookup
struct NetgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netget",
        abstract: "Download files over HTTP and HTTPS: resumable, segmented, verified.",
        discussion: """
            netget writes each download to PATH.part, flushes it to disk, and renames it to PATH only \
            when the body is complete and (with --checksum or --sha256) verified: a failure or Ctrl-C never leaves a \
            half-written PATH, and `-c` continues from PATH.part. Transient failures (resets, timeouts, \
            5xx) are retried with exponential back-off, each retry resuming with a Range request.

            EXAMPLES
              netget https://example.org/big.iso
                  Download into ./big.iso with a progress bar.
              netget -c -o big.iso https://example.org/big.iso
                  Continue an interrupted download from big.iso.part.
              netget -x 4 --sha256 9f86d0...0f00a08 https://example.org/big.iso
                  Fetch over 4 connections (ranges), then verify the SHA-256.
              netget --checksum sha-512=<128 hex digits> https://example.org/big.iso
                  Verify another digest (sha-1, sha-224, sha-256, sha-384, sha-512, md5).
              netget -j 16 -d assets -i urls.txt
                  Download every URL in urls.txt, 16 at a time, into assets/.
                  A URL line may be followed by indented options for it (aria2's form):
                    https://example.org/a.iso
                      out=a-2026.iso
                      checksum=sha-256=9f86d0...0f00a08
                      header=Authorization: Bearer ...
              netget -o - https://example.org/data.csv.gz | gunzip | head
                  Stream the body to standard output.
              netget --limit-rate 2M --retries 10 --timeout 30 URL
                  At most 2 MB/s, 10 retries, give up a connection after 30 s without data.
              netget --engine workers URL
                  Blocking HTTP on worker threads instead of tasklets on the event loop.
              netget --json -q URL...
                  One JSON summary per download on stdout, nothing on stderr.
              netget --proxy http://proxy.example:3128 URL
                  Through an HTTP proxy (https URLs through a CONNECT tunnel).

            ENVIRONMENT
              http_proxy (lower case only), https_proxy, all_proxy and no_proxy (or HTTPS_PROXY, \
            ALL_PROXY, NO_PROXY) choose a proxy as they do for curl; --proxy and --noproxy override them.

            CONFIG FILE
              $XDG_CONFIG_HOME/netget/config (else ~/.config/netget/config) unless --no-config, then each \
            --config FILE: options as on the command line, one or more a line; # starts a comment; 'single' and \
            "double" quotes and backslashes as in a shell (no variables, no ~). No URLs there. The command line \
            wins: its value of a one-value option, its --no-quiet, --no-json, --no-continue, --no-compressed; \
            repeatable options (-H) add to the files'.

            EXIT STATUS (stable; with several URLs, the first that failed in input order; curl's numbers)
            \(ExitStatus.helpTable)
            """,
        version: "netget 0.1.0 (StacklessNet)")

    @Argument(help: "The URLs to download (http or https).")
    var urls: [String] = []

    @OptionGroup(title: "Output") var outputOptions: OutputOptions
    @OptionGroup(title: "Connection") var connectionOptions: ConnectionOptions
    @OptionGroup(title: "Retries") var retryOptions: RetryOptions
    @OptionGroup(title: "Verification") var verificationOptions: VerificationOptions
    @OptionGroup(title: "Display") var displayOptions: DisplayOptions

    // `command.retries` for `command.retryOptions.retries`: Plan reads options by their own names.
    subscript<T>(dynamicMember path: KeyPath<OutputOptions, T>) -> T { outputOptions[keyPath: path] }
    subscript<T>(dynamicMember path: KeyPath<ConnectionOptions, T>) -> T { connectionOptions[keyPath: path] }
    subscript<T>(dynamicMember path: KeyPath<RetryOptions, T>) -> T { retryOptions[keyPath: path] }
    subscript<T>(dynamicMember path: KeyPath<VerificationOptions, T>) -> T { verificationOptions[keyPath: path] }
    subscript<T>(dynamicMember path: KeyPath<DisplayOptions, T>) -> T { displayOptions[keyPath: path] }

    // Config files (ConfigFile): read before the command line, whose options win.
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "Read options from FILE too, after the default config file (repeatable): one or more options a line as on the "
                + "command line, # comments, 'quotes' and \"quotes\"; the command line's options win.",
            valueName: "file"))
    var configFiles: [String] = []

    @Flag(
        name: .customLong("no-config"),
        help: "Do not read $XDG_CONFIG_HOME/netget/config (else ~/.config/netget/config); --config files are still read.")
    var noConfig = false
}
