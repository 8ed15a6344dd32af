import ArgumentParser

/// The command line, as swift-argument-parser reads it. `Plan` turns it into checked settings.
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

            EXIT STATUS
              0 every download succeeded; 1 a download failed; 2 usage error (bad URL, option or list line); \
            3 checksum mismatch; 23 standard output (-o -) could not be written, or its reader closed it \
            (curl's code for a write error); 130 interrupted (Ctrl-C).
            """,
        version: "netget 0.1.0 (StacklessNet)")

    @Argument(help: "The URLs to download (http or https).")
    var urls: [String] = []

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "Write the download to PATH (one URL only). '-' streams the body to standard output (progress and errors on "
                + "standard error), with no .part and no -c; several URLs are written one after another, in order, as curl "
                + "does, and the first failure stops the rest.",
            valueName: "path"))
    var output: String?

    @Option(name: [.customShort("d"), .customLong("dir")], help: ArgumentHelp("Save downloads in DIR.", valueName: "dir"))
    var directory: String?

    @Option(
        name: [.customShort("i"), .customLong("input-file")],
        help: ArgumentHelp(
            "Read URLs from FILE ('-' for standard input), in aria2's form: a URL a line; indented lines after it give that "
                + "URL's out=NAME, dir=DIR, checksum=TYPE=HEX and header='Name: value' (repeatable); # starts a comment. "
                + "One URL a line (no tab-separated mirrors).",
            valueName: "file"))
    var inputFile: String?

    @Flag(name: [.customShort("c"), .customLong("continue")], help: "Continue from PATH.part if it is there.")
    var resume = false

    @Option(help: ArgumentHelp("Retries after a transient failure.", valueName: "n"))
    var retries: Int = 5

    @Option(
        name: .customLong("retry-delay"),
        help: ArgumentHelp("The first retry's delay in seconds; each next one doubles, with jitter.", valueName: "seconds"))
    var retryDelay: Double = 0.5

    @Option(
        help: ArgumentHelp("Give up a connection after this many seconds without data, or for a whole response head.", valueName: "seconds")
    )
    var timeout: Double = 30

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp("Seconds to make a connection.", valueName: "seconds"))
    var connectTimeout: Double = 10

    @Option(
        name: [.customShort("x"), .customLong("connections")],
        help: ArgumentHelp("Connections per file: fetch N ranges at once.", valueName: "n"))
    var connections: Int = 1

    @Option(name: [.customShort("j"), .customLong("parallel")], help: ArgumentHelp("Files downloaded at once.", valueName: "n"))
    var parallel: Int = 4

    @Option(
        help: ArgumentHelp(
            "Check the download's digest, TYPE=HEX as aria2 writes it (one URL only; in an -i list, checksum= per URL). "
                + "TYPE: \(DigestAlgorithm.namesForHelp). A mismatch is exit 3, the data kept in PATH.part.",
            valueName: "type=hex"))
    var checksum: String?

    @Option(help: ArgumentHelp("Check the download's SHA-256: short for --checksum sha-256=HEX.", valueName: "hex"))
    var sha256: String?

    @Option(
        name: .customLong("stdout-buffer"),
        help: ArgumentHelp(
            "With -o - and -x N: the most bytes of later segments held in memory until the bytes before them are written "
                + "(64K to 1G; default 16M). Segments wait when it is full, so -x gains little on standard output.",
            valueName: "size"))
    var stdoutBuffer: String?

    @Option(
        help: ArgumentHelp("loop: tasklets on the event loop (default); workers: blocking HTTP on worker threads.", valueName: "engine"))
    var engine: String = "loop"

    @Option(
        name: [.customShort("H"), .customLong("header")],
        help: ArgumentHelp("Send an extra header, 'Name: value' (repeatable).", valueName: "header"))
    var headers: [String] = []

    @Option(name: .customLong("max-redirects"), help: ArgumentHelp("Redirects to follow.", valueName: "n"))
    var maxRedirects: Int = 10

    @Option(
        name: .customLong("limit-rate"), help: ArgumentHelp("At most RATE bytes per second per download: 500K, 2M, 1G.", valueName: "rate"))
    var limitRate: String?

    @Flag(name: .customLong("no-clobber"), help: "Skip a download whose file is already there (exit 0), instead of naming it PATH.1.")
    var noClobber = false

    @Flag(
        name: .customLong("location-trusted"),
        help: "Send the credential headers (Authorization, Cookie, and --secret-header names) to the hosts redirects lead to as well.")
    var locationTrusted = false

    @Option(
        name: .customLong("secret-header"),
        help: ArgumentHelp("Treat the -H header NAME as a credential: sent only to the URL's own origin (repeatable).", valueName: "name"))
    var secretHeaders: [String] = []

    @Option(
        name: [.customShort("u"), .customLong("user")],
        help: ArgumentHelp("Basic credentials for the URL's origin (only there, unless --location-trusted).", valueName: "user:password"))
    var user: String?

    @Flag(name: [.customShort("n"), .customLong("netrc")], help: "Take credentials from ~/.netrc ($NETRC) for the URL's host.")
    var netrc = false

    @Option(name: .customLong("netrc-file"), help: ArgumentHelp("Take credentials from FILE, in .netrc form.", valueName: "file"))
    var netrcFile: String?

    @Flag(name: [.customShort("4"), .customLong("ipv4")], help: "Connect over IPv4 only.")
    var ipv4 = false

    @Flag(name: [.customShort("6"), .customLong("ipv6")], help: "Connect over IPv6 only.")
    var ipv6 = false

    @Flag(help: "Ask for a compressed body (gzip, deflate, br, zstd) and save it decoded.")
    var compressed = false

    @Flag(name: .customLong("allow-insecure-redirect"), help: "Follow a redirect from https to http (refused by default).")
    var allowInsecureRedirect = false

    @Flag(name: [.customShort("k"), .customLong("insecure")], help: "Do not verify TLS certificates.")
    var insecure = false

    @Option(help: ArgumentHelp("Trust the CA certificates in FILE (PEM) besides the system's.", valueName: "file"))
    var cacert: String?

    @Option(
        help: ArgumentHelp(
            "Go through this proxy for http and https URLs: http://, https://, socks5:// or socks5h://[user:password@]host[:port]; "
                + "it overrides http_proxy, https_proxy and all_proxy, and '' connects directly.",
            valueName: "url"))
    var proxy: String?

    @Option(
        help: ArgumentHelp(
            "Hosts reached without the proxy, comma-separated: names (with their subdomains), IPs, CIDRs, host:port; "
                + "'*' for every host. It overrides no_proxy.",
            valueName: "list"))
    var noproxy: String?

    // Time and limits (issue 15 points 5 and 6): kept together, read by `Plan.applyTimeAndLimits`.
    @Flag(
        name: .customLong("no-remote-time"),
        help: "Keep the download time as the file's modification time (by default it is the server's Last-Modified, as wget does).")
    var noRemoteTime = false

    @Flag(
        name: [.customShort("N"), .customLong("timestamping")],
        help: ArgumentHelp(
            "Fetch only if the server's file is newer: ask with the ETag kept from the last download (If-None-Match), else "
                + "with the file's time (If-Modified-Since); 304 Not Modified leaves the file as it is (exit 0, \"up to date\")."))
    var timestamping = false

    @Option(
        name: [.customShort("Y"), .customLong("speed-limit")],
        help: ArgumentHelp(
            "Fail a connection that is slower than BYTES per second on average over --speed-time seconds (as curl -Y); "
                + "it is retried (within --retries) with a Range from the last byte stored.",
            valueName: "bytes"))
    var speedLimit: String?

    @Option(
        name: [.customShort("y"), .customLong("speed-time")],
        help: ArgumentHelp("The window of --speed-limit, in seconds (default 30).", valueName: "seconds"))
    var speedTime: Double?

    @Option(
        name: .customLong("max-time"),
        help: ArgumentHelp(
            "Give up a download that takes longer than this many seconds, every retry included; PATH.part is kept, "
                + "so -c continues it.",
            valueName: "seconds"))
    var maxTime: Double?

    @Option(
        name: .customLong("max-filesize"),
        help: ArgumentHelp(
            "Refuse a file larger than BYTES (500K, 2M, 1G): before any of it arrives when the server gives its length, "
                + "else when it passes the limit (PATH.part is then removed).",
            valueName: "bytes"))
    var maxFilesize: String?

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Flag(help: "Print one JSON summary per download on standard output.")
    var json = false
}
