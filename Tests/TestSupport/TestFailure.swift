/// A test (or its harness) found something wrong; `description` says what.
///
/// The one failure type of every test target, so a helper's error reads the same wherever it
/// is thrown and `#expect(throws: TestFailure.self)` works in each target.
public struct TestFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
