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

    /// A short human form: `800ms`, `3s`, `1m30s`, `2h`.
    public var text: String {
        let ms = milliseconds
        if ms % 1_000 != 0 || ms == 0 { return ms < 1_000 ? "\(ms)ms" : String(format: "%.3gs", Double(ms) / 1_000) }
        var s = ms / 1_000
        var out = ""
        if s >= 3_600 { out += "\(s / 3_600)h"; s %= 3_600 }
        if s >= 60 { out += "\(s / 60)m"; s %= 60 }
        if s > 0 { out += "\(s)s" }
        return out
    }
}
