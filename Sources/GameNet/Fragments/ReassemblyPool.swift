/// The reassembly memory a host shares among its connections: each connection adds what its
/// `Reassembler` charges and gives it back when a message completes or the connection ends.
/// Not thread-safe: the host (or client) that owns the connections confines it.
final class ReassemblyPool {
    let limit: Int
    private(set) var used = 0

    init(limit: Int) { self.limit = limit }

    var room: Int { limit - used }

    /// Records a connection's reassembly growing (or shrinking) by `delta` bytes.
    func adjust(by delta: Int) { used += delta }
}
