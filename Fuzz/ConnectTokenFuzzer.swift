// libFuzzer target for GameNet's connect token codec (Sources/GameNet/Crypto/ConnectToken.swift
// with the wire helpers, compiled alone, no OpenSSL): any bytes either decode as a token (what a
// client gets from its matchmaker) or as a token's private part (what a host reads once the
// sealed part has opened) or throw ConnectTokenError, never crash; whatever decodes re-encodes
// to exactly the same bytes and decodes the same again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnectToken(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let token = try? ConnectToken.decode(bytes) {
        let again = token.encoded()
        guard again == bytes, (try? ConnectToken.decode(again)) == token else { fatalError("token round trip changed it: \(token)") }
        guard token.sealed.count == Packet.sealedTokenSize else { fatalError("a sealed part of \(token.sealed.count) bytes") }
    }
    if let keys = try? ConnectTokenPrivate.decode(bytes) {
        guard keys.encoded() == bytes, (try? ConnectTokenPrivate.decode(keys.encoded())) == keys else {
            fatalError("private part round trip changed it")
        }
    }
    return 0
}
