import ArgumentParser
import Controller
import EventLog
import FailoverCore
import Foundation

/// `--group` and `--endpoint`, shared by the group commands.
struct GroupOptions: ParsableArguments {
    @Option(help: "The failover group.")
    var group: String

    @Option(help: "The controller API base URL (default: http://<controller.listen>).")
    var endpoint: String?

    /// The group's configuration; an unknown group ends the process with exit code 2.
    func resolve(in config: ControllerConfig) throws -> GroupConfig {
        guard let group = config.group(named: group) else {
            let known = config.groups.map(\.name)
            Terminal.error("--group: no group named \"\(group)\" in \(config.sourcePath) (groups: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            throw ExitCode(2)
        }
        return group
    }
}

/// `--dry-run`, `--json` and `--wait`, shared by `drill` and `failover`.
struct RunOptions: ParsableArguments {
    @Flag(help: "Print the resolved plan and run nothing, not even the pre hook.")
    var dryRun = false

    @Flag(help: "Print JSON (the plan with --dry-run).")
    var json = false

    @Option(help: "How long to follow the run before giving up waiting (it goes on), e.g. 10m.", transform: parseDuration)
    var wait: Duration = .seconds(600)

    /// Prints the plan of `command` (dry run) or sends it and follows it; exits with the
    /// command's exit code.
    func execute(_ command: GroupCommand, config: ControllerConfig, target: GroupOptions) async throws {
        let group = try target.resolve(in: config)
        let reader = StateReader(config: config, endpoint: target.endpoint)
        if dryRun {
            try await PlanPrinter.print(command, group: group.name, reader: reader, json: json)
            return
        }
        throw ExitCode(try await CommandRunner(reader: reader, group: group.name).run(command, wait: wait))
    }
}

/// Parses `--wait`-style durations.
func parseDuration(_ text: String) throws -> Duration {
    guard let duration = Duration(text: text) else { throw ValidationError("\"\(text)\" is not a duration like 10m") }
    return duration
}
