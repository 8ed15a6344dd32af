import NetCore

/// The blocking engine talks over a `BlockingSocket` (NetCore) as over any `BlockingByteStream`.
extension BlockingSocket: BlockingByteStream {
    /// Whether an idle connection can carry another request (see `BlockingByteStream`). Never waits.
    public var isReusable: Bool { isIdleAndOpen }

}
