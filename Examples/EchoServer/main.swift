// A tasklet echo server and a client on one loop: the README's example, runnable.
//   swift run echo-server
import NetCore

let loop = try Loop()
let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
let address = try listener.localAddress()

loop.spawn(name: "server") {
    let connection = try await listener.accept()        // parks until a client connects
    var buffer = [UInt8](repeating: 0, count: 4096)
    while case let n = try await connection.read(into: &buffer), n > 0 {
        try await connection.write(Array(buffer[..<n]))   // echo back what came in
    }
    connection.close()
    listener.close()
}
loop.spawn(name: "client") {
    let socket = try await TCPSocket.connect(to: address, timeout: .seconds(2))
    try await socket.write("hello, tasklets\n")
    let reply = try await socket.read(exactly: 16)
    print("echoed from \(address):", String(decoding: reply, as: UTF8.self), terminator: "")
    socket.close()
}
loop.run()  // returns when both tasklets are done
