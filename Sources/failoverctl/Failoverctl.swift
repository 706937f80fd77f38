import ArgumentParser

/// The `failoverctl` command line.
@main
struct Failoverctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failoverctl",
        abstract: "Multi-site health monitor and failover controller.",
        discussion: """
            Exit codes of `status`: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (as a Nagios check).
            A configuration error exits with 2 and names file, line and key. drill, failover, pause and resume
            need a running controller and controller.api_token.
            """,
        subcommands: [
            Run.self, Check.self, Status.self, Events.self, Report.self, Drill.self, Failover.self, Pause.self,
            Resume.self, Rejoin.self,
        ])
}
