// The README's example: a tasklet echo server and a client on one loop.   swift run echo-server
import NetCore

let loop = try Loop()
let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))  // port 0: any free port
loop.spawn(name: "server") {
    let connection = try await listener.accept()  // parks until a client connects
    var buffer = [UInt8](repeating: 0, count: 4096)
    while case let n = try await connection.read(into: &buffer), n > 0 {
        try await connection.write(Array(buffer[..<n]))  // echo what came in
    }
}
loop.spawn(name: "client") {
    let socket = try await TCPSocket.connect(to: try listener.localAddress(), timeout: .seconds(2))
    try await socket.write("hello, tasklets\n")
    print(String(decoding: try await socket.read(exactly: 16), as: UTF8.self), terminator: "")
    socket.close()  // the server reads end-of-stream
}
loop.run()  // returns when both are done
