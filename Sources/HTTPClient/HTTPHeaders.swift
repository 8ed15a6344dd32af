/// Header fields in the order they came, with case-insensitive lookup by name (RFC 9110 §5.1).
public struct HTTPHeaders: Sendable, Equatable, Sequence, CustomStringConvertible {
    /// The fields as received: names keep their spelling, values are trimmed of surrounding whitespace.
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    /// Empty, with room for `capacity` fields: a head's fields then land in one allocation
    /// instead of regrowing (and copying) the array as it fills.
    init(capacity: Int) { fields.reserveCapacity(capacity) }

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }

    /// Appends `continuation` to the last field's value after one SP: the parser's
    /// replacement of an obs-fold (RFC 9112 §5.2). The caller checks there is a last field.
    mutating func appendToLastValue(_ continuation: String) {
        guard let last = fields.indices.last, !continuation.isEmpty else { return }
        fields[last].value = fields[last].value.isEmpty ? continuation : fields[last].value + " " + continuation
    }

    /// Every value of `name`, in order (case-insensitive).
    public subscript(name: String) -> [String] {
        fields.filter { Self.namesMatch($0.name, name) }.map(\.value)
    }

    /// The first value of `name`, or nil.
    public func first(_ name: String) -> String? {
        fields.first { Self.namesMatch($0.name, name) }?.value
    }

    /// ASCII case-insensitive equality without making lower-cased copies (field names are
    /// tokens: ASCII only). Every response's framing lookups go through here.
    static func namesMatch(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for i in 0..<x.count where x[i] != y[i] {
                    let lower = x[i] | 0x20
                    guard lower == y[i] | 0x20, lower >= 0x61, lower <= 0x7A else { return false }
                }
                return true
            }
        }
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public var description: String { fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n") }
}
