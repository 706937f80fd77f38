import ArgumentParser
import FailoverConfig
import FailoverCore
import Foundation

/// `--config`, shared by every subcommand.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).",
            valueName: "path"))
    var config: String?

    /// Loads and validates the configuration; a problem is printed as one located line and
    /// ends the process with exit code 2.
    func load() throws -> ControllerConfig {
        let loader = ConfigLoader()
        let path = loader.resolvePath(config)
        do {
            return try loader.load(path: path)
        } catch let error as ConfigError {
            Terminal.error("\(error)")
            throw ExitCode(2)
        }
    }
}

/// Writing to the terminal.
enum Terminal {
    /// Prints to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data("failoverctl: \(line)\n".utf8))
    }

    /// JSON for `--json` output: sorted keys, pretty-printed.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
