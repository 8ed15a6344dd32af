import HTTPTestServer
import NetCore
// test-server: runs the project's fault-injecting HTTP/1.1 test server until SIGINT or SIGTERM.
//   test-server [--host H] [--port N] [--tls-cert FILE --tls-key FILE]
//   test-server sha256 SIZE [SEED]     prints the SHA-256 of /gen/SIZE?seed=SEED's body and exits
// Prints exactly one line, "listening on http://127.0.0.1:PORT", once it accepts connections,
// so scripts can wait for it and read the port.
import NetTLS

#if canImport(Glibc)
    import Glibc
#endif

let usage = "usage: test-server [--host IP] [--port N] [--tls-cert FILE --tls-key FILE]"

func fail(_ message: String, code: Int32 = 2) -> Never {
    var text = "test-server: \(message)\n"
    if code == 2 { text += usage + "\n" }
    // write(2) rather than fputs(stderr): the C global is not concurrency-safe in Swift 6.
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(code)
}

if CommandLine.arguments.count >= 3, CommandLine.arguments[1] == "sha256" {
    guard let size = UInt64(CommandLine.arguments[2]),
        let seed = UInt64(CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : "1")
    else {
        fail("sha256 takes SIZE [SEED] (whole numbers)")
    }
    print(GeneratedContent.sha256Hex(size: size, seed: seed))
    exit(0)
}

var configuration = TestHTTPServer.Configuration()
var certificateFile: String?
var keyFile: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    func value() -> String {
        guard let next = arguments.popFirst() else { fail("\(argument) needs a value") }
        return next
    }
    switch argument {
    case "--host": configuration.host = value()
    case "--port":
        let text = value()
        guard let port = UInt16(text) else { fail("--port \(text) is not a port number (0-65535)") }
        configuration.port = port
    case "--tls-cert": certificateFile = value()
    case "--tls-key": keyFile = value()
    case "-h", "--help":
        print(usage)
        exit(0)
    default: fail("unknown argument \(argument)")
    }
}
switch (certificateFile, keyFile) {
case (nil, nil): break
case (let certificate?, let key?):
    do {
        configuration.tls = try TLSContext.server(certificateFile: certificate, privateKeyFile: key)
    } catch {
        fail("cannot load the TLS certificate or key: \(error)", code: 1)
    }
default: fail("--tls-cert and --tls-key go together")
}

// Block the stop signals before any thread starts, so every thread inherits the mask and the
// signals stay pending until sigwait below takes them: no handler runs on a random thread.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGINT)
sigaddset(&stopSignals, SIGTERM)
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

let server: TestHTTPServer
do {
    server = try TestHTTPServer.start(configuration)
} catch {
    fail("cannot listen on \(configuration.host):\(configuration.port): \(error)", code: 1)
}
print("listening on \(server.baseURL)")
fflush(nil)  // flushes stdout; the `stdout` global is not concurrency-safe in Swift 6

var received: Int32 = 0
while sigwait(&stopSignals, &received) != 0 {}
server.stop()
exit(0)
