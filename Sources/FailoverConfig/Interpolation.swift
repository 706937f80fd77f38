/// Expands `${NAME}` and `${NAME:-default}` in config scalars.
struct Interpolator: Sendable {
    let environment: [String: String]

    /// Why an expansion failed.
    enum Failure: Error {
        case unset(String)
        case badName(String)
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

    /// `NAME` or `NAME:-default`; like the shell, an empty variable takes the default too.
    private func value(of inner: Substring) throws(Failure) -> String {
        if let sep = inner.range(of: ":-") {
            let name = String(inner[..<sep.lowerBound])
            guard Self.isName(name) else { throw .badName(String(inner)) }
            let fallback = String(inner[sep.upperBound...])
            if let v = environment[name], !v.isEmpty { return v }
            return fallback
        }
        guard Self.isName(inner) else { throw .badName(String(inner)) }
        guard let v = environment[String(inner)] else { throw .unset(String(inner)) }
        return v
    }

    /// A shell variable name: a letter or `_`, then letters, digits or `_` (ASCII).
    static func isName(_ text: some StringProtocol) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
