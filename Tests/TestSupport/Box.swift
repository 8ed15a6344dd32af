/// A value one thread writes and another reads after a join or after `Loop.run()` returned
/// (both of which order the accesses), or that one loop's tasklets share.
///
/// The one box of every test target. It has no lock: each use must have an ordering like the
/// ones above, which is why it stays in test support and is not a NetCore type.
public final class Box<Value>: @unchecked Sendable {  // accesses ordered by join/run or confined to one loop, see above
    public var value: Value
    public init(_ value: Value) { self.value = value }
}
