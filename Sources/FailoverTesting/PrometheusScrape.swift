import Foundation

/// One sample line of a Prometheus text exposition: `name{label="value",...} 1.5`.
public struct PrometheusSample: Sendable, Equatable {
    /// The sample's name (`_bucket`, `_sum`, `_count` included for histograms).
    public var name: String
    /// Its labels.
    public var labels: [String: String]
    /// Its value.
    public var value: Double
}

/// A parsed `GET /metrics` answer (text format 0.0.4), for assertions on real values.
///
/// It reads what the controller writes; `promtool check metrics` is the judge of whether
/// the text is valid, this is not a validator.
public struct PrometheusScrape: Sendable {
    /// The text as received.
    public let text: String
    /// Every sample, in order.
    public let samples: [PrometheusSample]
    /// Metric family names from the `# TYPE` lines, with their type.
    public let types: [String: String]

    /// A line that is neither a comment nor a sample.
    public struct ParseError: Error, CustomStringConvertible {
        /// The offending line and why.
        public let description: String
    }

    /// Parses `text`; throws on a line it cannot read.
    public init(_ text: String) throws {
        self.text = text
        var samples: [PrometheusSample] = []
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.isEmpty {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let sample = Self.sample(line) else {
                throw ParseError(description: "cannot read the sample line: \(line)")
            }
            samples.append(sample)
        }
        self.samples = samples
        self.types = types
    }

    /// Every sample name and every family name.
    public var names: Set<String> { Set(samples.map(\.name)).union(types.keys) }

    /// The samples named `name` whose labels include `labels`.
    public func samples(_ name: String, _ labels: [String: String] = [:]) -> [PrometheusSample] {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }

    /// The value of the one sample named `name` with (at least) `labels`; nil when there is
    /// none or more than one.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let found = samples(name, labels)
        return found.count == 1 ? found[0].value : nil
    }

    private static func sample(_ line: Substring) -> PrometheusSample? {
        var labels: [String: String] = [:]
        let name: Substring
        var rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = line[..<brace]
            guard let (parsed, after) = Self.labels(line[line.index(after: brace)...]) else { return nil }
            labels = parsed
            rest = after
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = line[..<space]
            rest = line[space...]
        }
        rest = rest.drop { $0 == " " }
        let valueText = rest.split(separator: " ").first.map(String.init) ?? ""
        let value: Double? =
            switch valueText {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            case "NaN": .nan
            default: Double(valueText)
            }
        guard let value, !name.isEmpty else { return nil }
        return PrometheusSample(name: String(name), labels: labels, value: value)
    }

    /// Reads `a="x",b="y"}` and returns the labels and what follows the closing brace.
    private static func labels(_ text: Substring) -> ([String: String], Substring)? {
        var labels: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "}" { return (labels, text[text.index(after: index)...]) }
            if text[index] == "," || text[index] == " " {
                index = text.index(after: index)
                continue
            }
            guard let equals = text[index...].firstIndex(of: "="), text.index(after: equals) < text.endIndex,
                text[text.index(after: equals)] == "\""
            else { return nil }
            let key = String(text[index..<equals])
            var value = ""
            var cursor = text.index(equals, offsetBy: 2)
            while cursor < text.endIndex, text[cursor] != "\"" {
                if text[cursor] == "\\", text.index(after: cursor) < text.endIndex {
                    cursor = text.index(after: cursor)
                    value.append(text[cursor] == "n" ? "\n" : text[cursor])
                } else {
                    value.append(text[cursor])
                }
                cursor = text.index(after: cursor)
            }
            guard cursor < text.endIndex else { return nil }
            labels[key] = value
            index = text.index(after: cursor)
        }
        return nil
    }
}
