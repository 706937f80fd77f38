import ArgumentParser
import Controller
import FailoverCore

/// `failoverctl failover --group G --to SITE`: a manual failover.
struct Failover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fail a group over to a site now (manual failover).",
        discussion: """
            The running controller runs the group's plan from the current primary to --to. The target must \
            be up and within max_lag unless --force. Exit: 0 done within targets, 1 done but a target \
            missed, 2 stuck, vetoed or refused.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: GroupOptions

    @Option(help: "The site to make primary.")
    var to: String

    @Flag(help: "Skip the up and replication-lag checks on the target (at your risk).")
    var force = false

    @OptionGroup var execution: RunOptions

    func run() async throws {
        try await execution.execute(.failover(to: to, force: force), config: try options.load(), target: target)
    }
}
