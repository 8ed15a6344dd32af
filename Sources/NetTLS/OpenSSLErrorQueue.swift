import COpenSSL

/// OpenSSL's per-thread error queue. Every call into OpenSSL clears it first and drains it
/// after, within one synchronous stretch (no `await` in between), so a reason left by one
/// connection is never reported by another connection or tasklet on the same thread.
package enum OpenSSLErrorQueue {
    /// Forgets whatever earlier calls on this thread left.
    package static func clear() { ERR_clear_error() }

    /// Empties the queue and returns its reasons, oldest first ("wrong version number", ...).
    package static func drain() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                // No reason string registered: fall back to the full, searchable error code text.
                var text = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &text, text.count)
                reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return reasons
    }

    /// Drains the queue into one message, or `fallback` when it held nothing.
    package static func drainMessage(or fallback: String) -> String {
        let reasons = drain()
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }

    /// True when this thread's queue holds nothing (for tests: no error leaks out of a call).
    package static var isEmpty: Bool { ERR_peek_error() == 0 }
}
