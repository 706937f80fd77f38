import Foundation

extension Duration {
    /// Parses a duration such as `250ms`, `3s`, `10m`, `1h` or `1m30s`.
    ///
    /// Units: `ms`, `s`, `m`, `h`. A bare number is rejected, so `interval: 5` is an
    /// error rather than a silent five seconds.
    public init?(text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = Duration.zero
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let value = Double(digits), value >= 0 else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let millis: Double
            switch unit {
            case "ms": millis = value
            case "s": millis = value * 1_000
            case "m": millis = value * 60_000
            case "h": millis = value * 3_600_000
            default: return nil
            }
            // Bounded (about 31 years) so a typo like `99999999999h` cannot trap in Int64(_:).
            guard millis < 1e12 else { return nil }
            total += .milliseconds(Int64(millis.rounded()))
        }
        self = total
    }

    /// Whole milliseconds in this duration.
    public var milliseconds: Int64 {
        let (seconds, attos) = components
        return seconds * 1_000 + attos / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point value.
    public var seconds: Double { Double(milliseconds) / 1_000 }

    /// This duration in milliseconds with microsecond precision (probe timings).
    public var fractionalMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds / 1_000_000_000_000) / 1_000
    }

    /// A short human form that `init(text:)` reads back: `800ms`, `3s`, `1.5s`, `1m30s`, `2h`.
    public var text: String {
        let ms = milliseconds
        if ms < 1_000 { return "\(ms)ms" }
        var s = ms / 1_000
        var out = ""
        if s >= 3_600 { out += "\(s / 3_600)h"; s %= 3_600 }
        if s >= 60 { out += "\(s / 60)m"; s %= 60 }
        // Fractions are written as decimals of the seconds (`1.5s`, `1m0.25s`), never in
        // exponent form, so the text parses back to the same duration.
        let fraction = ms % 1_000
        if fraction != 0 {
            var digits = String(fraction + 1_000).dropFirst()
            while digits.hasSuffix("0") { digits = digits.dropLast() }
            out += "\(s).\(digits)s"
        } else if s > 0 {
            out += "\(s)s"
        }
        return out
    }
}
