import ArgumentParser

// The options of NetgetCommand by topic: each group is one section of --help. NetgetCommand
// reads them as its own properties (`command.retries`) through its dynamic member lookup.

/// The output options (--help's "OUTPUT" section).
struct OutputOptions: ParsableArguments {
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

    @Flag(
        name: [.customShort("c"), .customLong("continue")], inversion: .prefixedNo, exclusivity: .chooseLast,
        help: "Continue from PATH.part if it is there.")
    var resume = false

    @Flag(name: .customLong("no-clobber"), help: "Skip a download whose file is already there (exit 0), instead of naming it PATH.1.")
    var noClobber = false

    @Option(
        name: .customLong("stdout-buffer"),
        help: ArgumentHelp(
            "With -o - and -x N: the most bytes of later segments held in memory until the bytes before them are written "
                + "(64K to 1G; default 16M). Segments wait when it is full, so -x gains little on standard output.",
            valueName: "size"))
    var stdoutBuffer: String?

    // File times (issue 15 point 5), read by `Plan.applyTimeAndLimits`.
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
}

/// The connection options (--help's "CONNECTION" section).
struct ConnectionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("loop: tasklets on the event loop; workers: blocking HTTP on worker threads.", valueName: "engine"))
    var engine: String = "loop"

    @Option(
        name: [.customShort("x"), .customLong("connections")],
        help: ArgumentHelp("Connections per file: fetch N ranges at once.", valueName: "n"))
    var connections: Int = 1

    @Option(name: [.customShort("j"), .customLong("parallel")], help: ArgumentHelp("Files downloaded at once.", valueName: "n"))
    var parallel: Int = 4

    @Option(
        help: ArgumentHelp("Give up a connection after this many seconds without data, or for a whole response head.", valueName: "seconds")
    )
    var timeout: Double = 30

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp("Seconds to make a connection.", valueName: "seconds"))
    var connectTimeout: Double = 10

    @Option(
        name: .customLong("limit-rate"), help: ArgumentHelp("At most RATE bytes per second per download: 500K, 2M, 1G.", valueName: "rate"))
    var limitRate: String?

    @Option(
        name: [.customShort("H"), .customLong("header")],
        help: ArgumentHelp("Send an extra header, 'Name: value' (repeatable).", valueName: "header"))
    var headers: [String] = []

    @Option(
        name: [.customShort("A"), .customLong("user-agent")],
        help: ArgumentHelp("Send NAME as the User-Agent (instead of StacklessNet's).", valueName: "name"))
    var userAgent: String?

    @Option(
        name: [.customShort("e"), .customLong("referer")],
        help: ArgumentHelp("Send URL as the Referer, on every request of the download (as curl -e).", valueName: "url"))
    var referer: String?

    @Option(name: .customLong("max-redirects"), help: ArgumentHelp("Redirects to follow.", valueName: "n"))
    var maxRedirects: Int = 10

    @Flag(name: .customLong("allow-insecure-redirect"), help: "Follow a redirect from https to http (refused by default).")
    var allowInsecureRedirect = false

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

    @Flag(
        inversion: .prefixedNo, exclusivity: .chooseLast, help: "Ask for a compressed body (gzip, deflate, br, zstd) and save it decoded.")
    var compressed = false

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

    // Limits (issue 15 point 6), read by `Plan.applyTimeAndLimits`.
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
}

/// The retries options (--help's "RETRIES" section).
struct RetryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Retries after a transient failure.", valueName: "n"))
    var retries: Int = 5

    @Option(
        name: .customLong("retry-delay"),
        help: ArgumentHelp("The first retry's delay in seconds; each next one doubles, with jitter.", valueName: "seconds"))
    var retryDelay: Double = 0.5
}

/// The verification options (--help's "VERIFICATION" section).
struct VerificationOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Check the download's digest, TYPE=HEX as aria2 writes it (one URL only; in an -i list, checksum= per URL). "
                + "TYPE: \(DigestAlgorithm.namesForHelp). A mismatch is exit 3, the data kept in PATH.part.",
            valueName: "type=hex"))
    var checksum: String?

    @Option(help: ArgumentHelp("Check the download's SHA-256: short for --checksum sha-256=HEX.", valueName: "hex"))
    var sha256: String?

    @Flag(name: [.customShort("k"), .customLong("insecure")], help: "Do not verify TLS certificates.")
    var insecure = false

    @Option(help: ArgumentHelp("Trust the CA certificates in FILE (PEM) besides the system's.", valueName: "file"))
    var cacert: String?

    @Option(help: ArgumentHelp("Present the client certificate in FILE (PEM; the key too unless --key).", valueName: "file"))
    var cert: String?

    @Option(help: ArgumentHelp("The client certificate's private key (PEM).", valueName: "file"))
    var key: String?

    @Option(help: ArgumentHelp("The passphrase of an encrypted --key.", valueName: "phrase"))
    var pass: String?

    @Flag(name: .customLong("tlsv1.2"), help: "Use TLS 1.2 or later (the default).")
    var tls12 = false

    @Flag(name: .customLong("tlsv1.3"), help: "Use TLS 1.3 or later.")
    var tls13 = false

    @Option(
        help: ArgumentHelp(
            "The server's public key must match one of these: sha256//BASE64[;sha256//BASE64...], the SHA-256 of its "
                + "SubjectPublicKeyInfo. With -k the pin alone checks the server. A mismatch is exit 90.",
            valueName: "hashes"))
    var pinnedpubkey: String?
}

/// The display options (--help's "DISPLAY" section).
struct DisplayOptions: ParsableArguments {
    @Flag(name: .shortAndLong, inversion: .prefixedNo, exclusivity: .chooseLast, help: "Print nothing but errors.")
    var quiet = false

    @Flag(inversion: .prefixedNo, exclusivity: .chooseLast, help: "Print one JSON summary per download on standard output.")
    var json = false

    @Flag(
        name: [.customShort("v"), .customLong("verbose")],
        help: ArgumentHelp(
            "Print each request head sent ('> ' lines) and response head received ('< ' lines) on standard error, as "
                + "curl -v does, with credential values (Authorization, Proxy-Authorization, Cookie, --secret-header "
                + "names, Set-Cookie) shown as <hidden>."))
    var verbose = false

    @Flag(
        name: [.customLong("dry-run"), .customLong("spider")],
        help: ArgumentHelp(
            "Ask the server (HEAD, or a one-byte range when HEAD is refused) and print each URL's name, size, type and "
                + "whether it can resume, tab-separated (--json: an object), writing nothing."))
    var dryRun = false
}
