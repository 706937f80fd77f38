import ArgumentParser
import Controller
import FailoverCore

/// `failoverctl failover --group G --to SITE`: a manual failover.
struct Failover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fail a group over to a site now (manual failover).",
        discussion: """
            The running controller runs the group's plan from the current primary to --to. The target must
            be up and within max_lag unless --force. Exit: 0 done within targets, 1 done but a target
            missed, 2 stuck, vetoed or refused.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: GroupOptions

    @Option(help: "The site to make primary.")
    var to: String

    @Flag(help: "Skip the up and replication-lag checks on the target (at your risk).")
    var force = false

    @Flag(help: "Print the resolved plan and run nothing.")
    var dryRun = false

    @Flag(help: "Print JSON (the plan with --dry-run).")
    var json = false

    @Option(help: "How long to follow the failover before giving up waiting (it goes on).", transform: parseDuration)
    var wait: Duration = .seconds(600)

    func run() async throws {
        let config = try options.load()
        let group = try target.resolve(in: config)
        let reader = StateReader(config: config, endpoint: target.endpoint)
        let command = GroupCommand.failover(to: to, force: force)
        if dryRun {
            try await PlanPrinter.print(command, group: group.name, reader: reader, json: json)
            return
        }
        throw ExitCode(try await CommandRunner(reader: reader, group: group.name).run(command, wait: wait))
    }
}
