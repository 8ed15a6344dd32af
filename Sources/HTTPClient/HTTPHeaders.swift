/// Header fields in the order they came, with case-insensitive lookup by name (RFC 9110 §5.1).
public struct HTTPHeaders: Sendable, Equatable, Sequence, CustomStringConvertible {
    /// The fields as received: names keep their spelling, values are trimmed of surrounding whitespace.
    public private(set) var fields: [(name: String, value: String)] = []

    /// No fields.
    public init() {}

    /// Empty, with room for `capacity` fields: a head's fields then land in one allocation
    /// instead of regrowing (and copying) the array as it fills.
    init(capacity: Int) { fields.reserveCapacity(capacity) }

    /// The given (name, value) fields, in order, as they are: nothing is checked or trimmed
    /// here (writing a request refuses a bad name or value with `HTTPClientError.invalidRequest`).
    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// Appends a field after the others, keeping any of the same name (a repeated field is
    /// sent repeated). Not checked here, as `init(_:)`. Cost: amortized O(1).
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

    /// The number of fields, repeated names counted each time.
    public var count: Int { fields.count }

    /// Iterates the fields in order as (name, value) pairs.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// Same fields in the same order, names and values compared exactly (case included).
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The fields as `Name: value` lines, in order; credentials included, so not for logs.
    public var description: String { fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n") }
}
