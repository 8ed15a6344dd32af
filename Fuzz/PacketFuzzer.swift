// libFuzzer target for GameNet's packet decoder (Sources/GameNet/Wire/*.swift, compiled alone):
// any bytes either decode or throw PacketError, never crash or hang, and whatever decodes
// re-encodes to exactly the same bytes (the decoder accepts one spelling per packet, so a
// forged packet cannot hide fields the host would read differently).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPacket(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let packet = try? Packet.decode(bytes) else { return 0 }
    let again = packet.encoded()
    guard again == bytes else { fatalError("decode then encode changed the bytes: \(packet)") }
    guard (try? Packet.decode(again)) == packet else { fatalError("the re-encoded packet does not decode the same") }
    return 0
}
