extension HTTPResponseHead {
    /// The wait a `Retry-After` field asks for (RFC 9110 §10.2.3): delay-seconds, or an
    /// HTTP-date measured from the response's own `Date` (so a skewed client clock does not
    /// matter), else from `now`. A date in the past is no wait. Nil without a valid field.
    /// - Parameter now: seconds since the epoch, for a response without a `Date`.
    public func retryAfter(now: Int64) -> Duration? {
        guard let value = headers.first("Retry-After")?.trimmingCharacters(in: " \t"), !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // More than ten digits is more than 300 years: clamp rather than overflow.
            return .seconds(value.count > 10 ? 9_999_999_999 : Int64(value)!)  // digits only, checked above
        }
        guard let date = HTTPDate.parse(value) else { return nil }
        let reference = headers.first("Date").flatMap(HTTPDate.parse) ?? now
        return .seconds(max(0, date - reference))
    }
}
