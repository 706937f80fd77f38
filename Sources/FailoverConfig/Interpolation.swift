/// Expands `${NAME}` and `${NAME:-default}` in config scalars.
struct Interpolator: Sendable {
    let environment: [String: String]

    /// Why an expansion failed.
    enum Failure: Error {
        case unset(String)
        case unterminated
    }

    /// The expanded text. `$$` stands for a literal `$`.
    func expand(_ text: String) throws(Failure) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("$") {
                out += "$"
                rest = after.dropFirst()
            } else if after.hasPrefix("{") {
                guard let close = after.firstIndex(of: "}") else { throw .unterminated }
                let inner = after[after.index(after: after.startIndex)..<close]
                out += try value(of: inner)
                rest = after[after.index(after: close)...]
            } else {
                out += "$"
                rest = after
            }
        }
        return out + rest
    }

    private func value(of inner: Substring) throws(Failure) -> String {
        if let sep = inner.range(of: ":-") {
            let name = String(inner[..<sep.lowerBound])
            let fallback = String(inner[sep.upperBound...])
            if let v = environment[name], !v.isEmpty { return v }
            return fallback
        }
        guard let v = environment[String(inner)] else { throw .unset(String(inner)) }
        return v
    }
}
