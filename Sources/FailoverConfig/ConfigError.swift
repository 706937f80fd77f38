/// A configuration problem, always located: file, line (when known) and key path.
///
/// Its description is the one line users see: `sites/east.yaml:12: checks[1].tcp: port 99999 is out of range`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file the problem is in.
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// Dotted key path (`checks[1].tcp`), empty for the whole file.
    public var key: String
    /// What is wrong, in words.
    public var message: String

    /// Creates an error.
    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}

extension ConfigError {
    /// The same place with `message`: a loader remembers where a value is written (with an
    /// empty message) and says what is wrong with it once later checks know.
    func saying(_ message: String) -> ConfigError {
        var located = self
        located.message = message
        return located
    }
}
