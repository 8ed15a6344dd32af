/// One reliable unit of a channel, which has its own channel sequence: a whole message
/// (`count` 0) or fragment `index` of `count` of one.
struct Piece: Equatable {
    var payload: [UInt8]
    var index: UInt16 = 0
    var count: UInt16 = 0

    var isFragment: Bool { count != 0 }

    /// The frame that carries it.
    func frame(channel: UInt8, sequence: UInt32) -> Frame {
        isFragment
            ? .fragment(channel: channel, sequence: sequence, index: index, count: count, payload: payload)
            : .message(channel: channel, sequence: sequence, payload: payload)
    }
}
