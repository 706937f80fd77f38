import ArgumentParser
import FailoverCore

/// `failoverctl check`: validates the configuration and prints what it found.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and print a summary (exit 2 on an error).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        print("\(config.sourcePath): OK")
        let commands = config.apiToken == nil ? "commands disabled (no api_token)" : "commands need the api_token"
        print("controller \(config.id), API on \(config.listen) (\(commands)), state in \(config.stateDir), coordination \(config.coordination.backend)")
        if case .etcd(let etcd) = config.coordination {
            let tls = etcd.caFile != nil || etcd.certFile != nil ? ", TLS" + (etcd.certFile != nil ? " with a client certificate" : "") : ""
            print(
                "coordination: members \(etcd.members.joined(separator: ", ")), \(etcd.quorum) votes needed;"
                    + " etcd \(etcd.endpoints.joined(separator: ", ")) under \(etcd.prefix), lease \(etcd.leaseTTL.text), poll \(etcd.poll.text)\(tls)")
        }
        for site in config.sites {
            let region = site.region.map { " (\($0))" } ?? ""
            print(
                "site \(site.name)\(region): every \(site.interval.text), timeout \(site.timeout.text),"
                    + " fall \(site.fall), rise \(site.rise), require \(site.require.rawValue)")
            for check in site.checks {
                let timeout = check.timeout.map { ", timeout \($0.text)" } ?? ""
                print("  \(check.name): \(check.kind.label) \(check.kind.redactedTarget)\(timeout)")
            }
            for kind in StepKind.siteActionKinds {
                if let action = site.actions[kind] { print("  \(kind.rawValue): \(action.plugin)") }
            }
        }
        for group in config.groups { print(Self.summary(group)) }
        for sink in config.alerts.sinks {
            let severity = sink.minSeverity.map { ", min_severity \($0.rawValue)" } ?? ""
            let kinds = sink.kinds.map { ", events \($0.map(\.rawValue).sorted().joined(separator: " "))" } ?? ""
            print("alerts \(sink.name): \(sink.target.label)\(severity)\(kinds)")
        }
    }

    /// `group web: primary east, standbys west (1), eu (2); failover automatic ...` and its plan.
    static func summary(_ group: GroupConfig) -> String {
        let standbys = group.standbys.map { "\($0.site) (\($0.priority))" }.joined(separator: ", ")
        var policy = "failover \(group.failover.rawValue), failback \(group.failback.rawValue), cooldown \(group.cooldown.text)"
        if let lag = group.maxLagBytes { policy += ", max_lag \(lag) B" }
        if let rto = group.rto { policy += ", rto \(rto.text)" }
        if let rpo = group.rpo { policy += ", rpo \(rpo.text)" }
        var lines = ["group \(group.name): primary \(group.primary), standbys \(standbys); \(policy)"]
        if !group.preHook.isEmpty { lines.append("  pre hook: \(group.preHook[0]) (timeout \(group.hookTimeout.text))") }
        for (index, step) in group.plan.enumerated() {
            let what = step.kind == .exec ? "exec \(step.command[0])" : step.kind.rawValue
            let extra = step.optional ? ", optional" : ""
            lines.append("  \(index + 1). \(what): timeout \(step.timeout.text), \(step.retries) retries, on failure \(step.onFailure.rawValue)\(extra)")
        }
        return lines.joined(separator: "\n")
    }
}
