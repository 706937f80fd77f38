import Actions
import ArgumentParser
import Controller
import FailoverCore
import Foundation

/// `failoverctl rejoin --group G --site S`: the `rejoin` step, run by a human.
struct Rejoin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a site's database into a streaming replica of the group's primary (stop, pg_rewind, start).",
        discussion: """
            Uses the site's postgres action with a host block, and the primary's postgres action as the source. \
            The controller must answer: the group's primary comes from it, and a group that is failing over or \
            paused is refused. Exit 0 when the site streams from the primary, 1 when the rejoin failed (the \
            site's server is then left stopped), 2 when it was refused.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: GroupOptions

    @Option(help: "The site whose database rejoins (not the group's primary).")
    var site: String

    @Option(help: "How long the rejoin may take, e.g. 5m.", transform: parseDuration)
    var timeout: Duration = .seconds(300)

    func run() async throws {
        let config = try options.load()
        let group = try target.resolve(in: config)
        let request = try await self.request(config: config, group: group)
        print("rejoining \(site) as a replica of \(request.context.to) (\(request.step.summary))")
        do {
            let report = try await PostgresAction().perform(request)
            for sentence in report.changed { print("  \(sentence)") }
        } catch {
            Terminal.error("rejoin of \(site) failed: \(ActionError.from(error).description)")
            throw ExitCode(1)
        }
    }

    /// The rejoin step of `site` following the group's primary, as the controller reports
    /// it; refusals end the process with exit code 2.
    private func request(config: ControllerConfig, group: GroupConfig) async throws -> ActionRequest {
        func refuse(_ why: String) -> ExitCode {
            Terminal.error(why)
            return ExitCode(2)
        }
        guard group.sites.contains(site) else {
            throw refuse("--site: \(site) is not a site of \(group.name) (its sites: \(group.sites.joined(separator: ", ")))")
        }
        let status: GroupStatus
        do {
            status = try await StateReader(config: config, endpoint: target.endpoint).liveGroup(group.name)
        } catch {
            throw refuse("\(error.description): the controller must answer, to name \(group.name)'s primary")
        }
        guard status.primary != site else { throw refuse("\(site) is \(group.name)'s primary: rejoin a standby") }
        guard status.run == nil else { throw refuse("\(group.name) is failing over (\(status.phase)): rejoin after it ends") }
        let (action, peer) = Plan.rejoin(PlanStep(kind: .rejoin), sites: config.sites, from: site, to: status.primary)
        if case .unavailable(let reason) = action { throw refuse("cannot rejoin \(site): \(reason)") }
        var step = ResolvedStep(
            index: 0, kind: .rejoin, site: site, action: action, timeout: timeout, retries: 0, onFailure: .continue)
        step.peer = peer
        let context = RunContext(
            group: group.name, incident: "\(group.name)-rejoin-\(site)", kind: .manual, from: site, to: status.primary,
            epoch: status.epoch)
        return ActionRequest(context: context, step: step, timeout: timeout)
    }
}
